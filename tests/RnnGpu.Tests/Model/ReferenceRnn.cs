using RnnGpu.Accelerators;
using RnnGpu.Model;
using RnnGpu.Training;

namespace RnnGpu.Tests.Model;

/// <summary>
/// An independent float64 Elman RNN and loss, written straight from the equations with scalar loops on
/// the batch-first layout: h_t = act(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh) per direction (the reverse
/// direction runs each sequence from its own last step back to step 0), y_t = W_o h_t + b_o, or
/// y = W_o h_final + b_o many-to-one. Padded steps are zero and take no part. Shares no code with the
/// engine's forward or backward pass; used for central finite differences of the loss.
/// </summary>
public sealed class ReferenceRnn(RnnConfig config, Dictionary<string, double[]> parameters)
{
    public Dictionary<string, double[]> Parameters { get; } = parameters;

    public static ReferenceRnn FromModel(RnnModel model) =>
        new(model.Config, model.StateDict().ToDictionary(kv => kv.Key, kv => kv.Value.Data.Select(v => (double)v).ToArray()));

    /// <summary>
    /// Outputs [B, T, O] ([B, O] many-to-one; [B, T, D*H] without head) and final states [L*D, B, H].
    /// <paramref name="masks"/>(l, d) gives the dropout mask [B, T, H] of a layer's output, or null.
    /// </summary>
    public (double[] Output, double[] FinalState) Forward(double[] x, double[] h0, int batch, int time,
        int[]? lengths = null, Func<int, int, float[]>? masks = null)
    {
        int hidden = config.HiddenSize, dirs = config.Directions, width = dirs * hidden;
        lengths ??= Enumerable.Repeat(time, batch).ToArray();
        var layerInput = x;
        int inSize = config.InputSize;
        var final = new double[config.NumLayers * dirs * batch * hidden];
        for (int l = 0; l < config.NumLayers; l++)
        {
            var output = new double[batch * time * width];
            for (int d = 0; d < dirs; d++)
            {
                var wih = Parameters[ParameterLayout.WeightIh(l, d)];
                var whh = Parameters[ParameterLayout.WeightHh(l, d)];
                var bih = Parameters[ParameterLayout.BiasIh(l, d)];
                var bhh = Parameters[ParameterLayout.BiasHh(l, d)];
                var mask = l < config.NumLayers - 1 ? masks?.Invoke(l, d) : null;
                for (int b = 0; b < batch; b++)
                {
                    var h = new double[hidden];
                    Array.Copy(h0, ((l * dirs + d) * batch + b) * hidden, h, 0, hidden);
                    for (int s = 0; s < lengths[b]; s++)
                    {
                        int t = d == 0 ? s : lengths[b] - 1 - s;
                        var next = new double[hidden];
                        for (int j = 0; j < hidden; j++)
                        {
                            double acc = bih[j] + bhh[j];
                            for (int i = 0; i < inSize; i++) acc += wih[j * inSize + i] * layerInput[(b * time + t) * inSize + i];
                            for (int i = 0; i < hidden; i++) acc += whh[j * hidden + i] * h[i];
                            next[j] = config.Nonlinearity == Activation.Tanh ? Math.Tanh(acc) : Math.Max(acc, 0);
                        }
                        h = next;
                        for (int j = 0; j < hidden; j++)
                            output[(b * time + t) * width + d * hidden + j] = h[j] * (mask is null ? 1 : mask[(b * time + t) * hidden + j]);
                    }
                    Array.Copy(h, 0, final, ((l * dirs + d) * batch + b) * hidden, hidden);
                }
            }
            layerInput = output;
            inSize = width;
        }
        if (!config.HasHead) return (layerInput, final);
        int o = config.OutputSize, top = config.NumLayers - 1;
        var w = Parameters[ParameterLayout.HeadWeight];
        var bias = Parameters[ParameterLayout.HeadBias];
        if (config.ManyToOne)
        {
            var y1 = new double[batch * o];
            for (int b = 0; b < batch; b++)
            for (int k = 0; k < o; k++)
            {
                double acc = bias[k];
                for (int d = 0; d < dirs; d++)
                for (int j = 0; j < hidden; j++)
                    acc += w[k * width + d * hidden + j] * final[((top * dirs + d) * batch + b) * hidden + j];
                y1[b * o + k] = acc;
            }
            return (y1, final);
        }
        var y = new double[batch * time * o];
        for (int b = 0; b < batch; b++)
        for (int t = 0; t < lengths[b]; t++)
        for (int k = 0; k < o; k++)
        {
            double acc = bias[k];
            for (int j = 0; j < width; j++) acc += w[k * width + j] * layerInput[(b * time + t) * width + j];
            y[(b * time + t) * o + k] = acc;
        }
        return (y, final);
    }

    /// <summary>The mean loss PyTorch's MSELoss, CrossEntropyLoss or BCEWithLogitsLoss computes over the real steps.</summary>
    public double Loss(double[] x, double[] h0, double[] target, LossKind kind, int batch, int time,
        int[]? lengths = null, Func<int, int, float[]>? masks = null)
    {
        var (y, _) = Forward(x, h0, batch, time, lengths, masks);
        int width = config.OutputWidth;
        lengths ??= Enumerable.Repeat(time, batch).ToArray();
        // Rows that count: (b, t) for real steps, or one per sequence many-to-one.
        var rows = config.ManyToOne
            ? Enumerable.Range(0, batch).ToList()
            : Enumerable.Range(0, batch).SelectMany(b => Enumerable.Range(0, lengths[b]).Select(t => b * time + t)).ToList();
        double sum = 0;
        foreach (int r in rows)
        {
            if (kind == LossKind.CrossEntropy)
            {
                double max = double.NegativeInfinity, z = 0;
                for (int k = 0; k < width; k++) max = Math.Max(max, y[r * width + k]);
                for (int k = 0; k < width; k++) z += Math.Exp(y[r * width + k] - max);
                sum += Math.Log(z) + max - y[r * width + (int)target[r]];
                continue;
            }
            for (int k = 0; k < width; k++)
            {
                double v = y[r * width + k], t = target[r * width + k];
                sum += kind == LossKind.Mse ? (v - t) * (v - t) : Math.Log(1 + Math.Exp(-v)) + (1 - t) * v;
            }
        }
        return sum / (kind == LossKind.CrossEntropy ? rows.Count : rows.Count * width);
    }
}
