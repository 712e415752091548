using RnnGpu.Accelerators;
using RnnGpu.Model;
using RnnGpu.Training;

namespace RnnGpu.Tests.Model;

/// <summary>
/// An independent float64 Elman RNN and loss, written straight from the equations with scalar loops
/// on the batch-first layout: h_t = act(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh), y_t = W_o h_t + b_o.
/// Shares no code with the engine; used for central finite differences of the loss.
/// </summary>
public sealed class ReferenceRnn(RnnConfig config, Dictionary<string, double[]> parameters)
{
    public Dictionary<string, double[]> Parameters { get; } = parameters;

    public static ReferenceRnn FromModel(RnnModel model) =>
        new(model.Config, model.StateDict().ToDictionary(kv => kv.Key, kv => kv.Value.Data.Select(v => (double)v).ToArray()));

    /// <summary>Outputs [B, T, O] (or [B, T, H] without head) and final states [L, B, H].</summary>
    public (double[] Output, double[] FinalState) Forward(double[] x, double[] h0, int batch, int time)
    {
        int hidden = config.HiddenSize;
        var layerInput = x;
        int inSize = config.InputSize;
        var final = new double[config.NumLayers * batch * hidden];
        for (int l = 0; l < config.NumLayers; l++)
        {
            var wih = Parameters[ParameterLayout.WeightIh(l)];
            var whh = Parameters[ParameterLayout.WeightHh(l)];
            var bih = Parameters[ParameterLayout.BiasIh(l)];
            var bhh = Parameters[ParameterLayout.BiasHh(l)];
            var output = new double[batch * time * hidden];
            for (int b = 0; b < batch; b++)
            {
                var h = new double[hidden];
                Array.Copy(h0, (l * batch + b) * hidden, h, 0, hidden);
                for (int t = 0; t < time; t++)
                {
                    var next = new double[hidden];
                    for (int j = 0; j < hidden; j++)
                    {
                        double acc = bih[j] + bhh[j];
                        for (int i = 0; i < inSize; i++) acc += wih[j * inSize + i] * layerInput[(b * time + t) * inSize + i];
                        for (int i = 0; i < hidden; i++) acc += whh[j * hidden + i] * h[i];
                        next[j] = config.Nonlinearity == Activation.Tanh ? Math.Tanh(acc) : Math.Max(acc, 0);
                    }
                    h = next;
                    Array.Copy(h, 0, output, (b * time + t) * hidden, hidden);
                }
                Array.Copy(h, 0, final, (l * batch + b) * hidden, hidden);
            }
            layerInput = output;
            inSize = hidden;
        }
        if (!config.HasHead) return (layerInput, final);
        int o = config.OutputSize;
        var w = Parameters[ParameterLayout.HeadWeight];
        var bias = Parameters[ParameterLayout.HeadBias];
        var y = new double[batch * time * o];
        for (int r = 0; r < batch * time; r++)
        for (int k = 0; k < o; k++)
        {
            double acc = bias[k];
            for (int j = 0; j < hidden; j++) acc += w[k * hidden + j] * layerInput[r * hidden + j];
            y[r * o + k] = acc;
        }
        return (y, final);
    }

    /// <summary>The mean loss PyTorch's MSELoss, CrossEntropyLoss or BCEWithLogitsLoss computes.</summary>
    public double Loss(double[] x, double[] h0, double[] target, LossKind kind, int batch, int time)
    {
        var (y, _) = Forward(x, h0, batch, time);
        int width = config.OutputWidth;
        double sum = 0;
        switch (kind)
        {
            case LossKind.Mse:
                for (int i = 0; i < y.Length; i++) sum += (y[i] - target[i]) * (y[i] - target[i]);
                return sum / y.Length;
            case LossKind.BinaryCrossEntropy:
                for (int i = 0; i < y.Length; i++)
                    sum += Math.Log(1 + Math.Exp(-y[i])) + (1 - target[i]) * y[i];   // -t log σ(y) - (1-t) log(1-σ(y))
                return sum / y.Length;
            default:
                for (int r = 0; r < batch * time; r++)
                {
                    double max = double.NegativeInfinity, z = 0;
                    for (int k = 0; k < width; k++) max = Math.Max(max, y[r * width + k]);
                    for (int k = 0; k < width; k++) z += Math.Exp(y[r * width + k] - max);
                    sum += Math.Log(z) + max - y[r * width + (int)target[r]];
                }
                return sum / (batch * time);
        }
    }
}
