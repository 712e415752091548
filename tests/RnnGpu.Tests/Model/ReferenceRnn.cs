using RnnGpu.Accelerators;
using RnnGpu.Model;
using RnnGpu.Training;

namespace RnnGpu.Tests.Model;

/// <summary>
/// An independent float64 recurrent network and loss, written straight from PyTorch's equations with scalar loops on the
/// batch-first layout. Per direction (the reverse one runs each sequence from its own last step back to step 0):
/// Elman h_t = act(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh); LSTM gates i, f, g, o, c_t = f c_{t-1} + i g,
/// h_t = o tanh(c_t) (times W_hr with a projection); GRU gates r, z, n, n = tanh(W_in x + b_in + r (W_hn h + b_hn)),
/// h_t = (1 - z) n + z h_{t-1}. Then y_t = W_o h_t + b_o, or y = W_o h_final + b_o many-to-one. Padded steps are zero and
/// take no part. Shares no code with the engine's forward or backward pass; used for central finite differences.
/// </summary>
public sealed class ReferenceRnn(RnnConfig config, Dictionary<string, double[]> parameters)
{
    public Dictionary<string, double[]> Parameters { get; } = parameters;

    /// <summary>
    /// What the recurrent products see of a state (h before W_hh, o ⊙ tanh c before W_hr): the state itself, or, to check
    /// quantized inference, its values as the engine quantizes them.
    /// </summary>
    public Func<double[], double[]> RecurrentOperand { get; init; } = v => v;

    public static ReferenceRnn FromModel(RnnModel model) =>
        new(model.Config, model.StateDict().ToDictionary(kv => kv.Key, kv => kv.Value.Data.Select(v => (double)v).ToArray()));

    /// <summary><see cref="Run"/> without an LSTM's c0 (zeros) or its final c.</summary>
    public (double[] Output, double[] FinalState) Forward(double[] x, double[] h0, int batch, int time,
        int[]? lengths = null, Func<int, int, float[]>? masks = null)
    {
        var (output, h, _) = Run(x, h0, null, batch, time, lengths, masks);
        return (output, h);
    }

    /// <summary>
    /// Outputs [B, T, O] ([B, O] many-to-one; [B, T, D*S] without head), final h [L*D, B, S] and an LSTM's final c
    /// [L*D, B, H] (empty otherwise) from h0 and c0 (zeros when null). <paramref name="masks"/>(l, d) gives the dropout mask
    /// [B, T, S] of a layer's output, or null.
    /// </summary>
    public (double[] Output, double[] FinalState, double[] FinalCell) Run(double[] x, double[] h0, double[]? c0, int batch, int time,
        int[]? lengths = null, Func<int, int, float[]>? masks = null)
    {
        int hidden = config.HiddenSize, size = config.StateSize, dirs = config.Directions, width = dirs * size;
        lengths ??= Enumerable.Repeat(time, batch).ToArray();
        bool lstm = config.Cell == CellKind.Lstm;
        c0 ??= new double[lstm ? config.NumLayers * dirs * batch * hidden : 0];
        var layerInput = x;
        int inSize = config.InputSize;
        var final = new double[config.NumLayers * dirs * batch * size];
        var finalCell = new double[c0.Length];
        for (int l = 0; l < config.NumLayers; l++)
        {
            var output = new double[batch * time * width];
            for (int d = 0; d < dirs; d++)
            {
                var mask = l < config.NumLayers - 1 ? masks?.Invoke(l, d) : null;
                int group = l * dirs + d;
                for (int b = 0; b < batch; b++)
                {
                    var h = h0.AsSpan((group * batch + b) * size, size).ToArray();
                    var c = c0.AsSpan(lstm ? (group * batch + b) * hidden : 0, lstm ? hidden : 0).ToArray();
                    for (int s = 0; s < lengths[b]; s++)
                    {
                        int t = d == 0 ? s : lengths[b] - 1 - s;
                        h = Step(l, d, layerInput.AsSpan((b * time + t) * inSize, inSize), h, c);
                        for (int j = 0; j < size; j++)
                            output[(b * time + t) * width + d * size + j] = h[j] * (mask is null ? 1 : mask[(b * time + t) * size + j]);
                    }
                    h.CopyTo(final, (group * batch + b) * size);
                    if (lstm) c.CopyTo(finalCell, (group * batch + b) * hidden);
                }
            }
            layerInput = output;
            inSize = width;
        }
        return (config.HasHead ? Head(layerInput, final, batch, time, lengths) : layerInput, final, finalCell);
    }

    /// <summary>One step of layer l, direction d: the new h; an LSTM's c is updated in place.</summary>
    private double[] Step(int l, int d, ReadOnlySpan<double> x, double[] h, double[] c)
    {
        int hidden = config.HiddenSize;
        var (wih, whh) = (Parameters[ParameterLayout.WeightIh(l, d)], Parameters[ParameterLayout.WeightHh(l, d)]);
        var (bih, bhh) = (Parameters[ParameterLayout.BiasIh(l, d)], Parameters[ParameterLayout.BiasHh(l, d)]);
        var input = Affine(wih, bih, x);     // [G * H]
        var recurrent = Affine(whh, bhh, RecurrentOperand(h)); // [G * H]
        var next = new double[hidden];
        for (int j = 0; j < hidden; j++)
        {
            switch (config.Cell)
            {
                case CellKind.Rnn:
                    double a = input[j] + recurrent[j];
                    next[j] = config.Nonlinearity == Activation.Tanh ? Math.Tanh(a) : Math.Max(a, 0);
                    break;
                case CellKind.Lstm:
                    double i = Sigmoid(input[j] + recurrent[j]), f = Sigmoid(input[hidden + j] + recurrent[hidden + j]);
                    double g = Math.Tanh(input[2 * hidden + j] + recurrent[2 * hidden + j]), o = Sigmoid(input[3 * hidden + j] + recurrent[3 * hidden + j]);
                    c[j] = f * c[j] + i * g;
                    next[j] = o * Math.Tanh(c[j]);
                    break;
                default:
                    double r = Sigmoid(input[j] + recurrent[j]), z = Sigmoid(input[hidden + j] + recurrent[hidden + j]);
                    double n = Math.Tanh(input[2 * hidden + j] + r * recurrent[2 * hidden + j]);
                    next[j] = (1 - z) * n + z * h[j];
                    break;
            }
        }
        return config.ProjSize > 0 ? Affine(Parameters[ParameterLayout.WeightHr(l, d)], null, RecurrentOperand(next)) : next;
    }

    /// <summary>W v + b: W [rows, v.Length].</summary>
    private static double[] Affine(double[] w, double[]? b, ReadOnlySpan<double> v)
    {
        int rows = w.Length / v.Length;
        var y = new double[rows];
        for (int r = 0; r < rows; r++)
        {
            double acc = b?[r] ?? 0;
            for (int k = 0; k < v.Length; k++) acc += w[r * v.Length + k] * v[k];
            y[r] = acc;
        }
        return y;
    }

    private static double Sigmoid(double v) => 1 / (1 + Math.Exp(-v));

    /// <summary>The head over every real step of the top layer's output [B, T, O], or over the top layer's final states [B, O].</summary>
    private double[] Head(double[] top, double[] final, int batch, int time, int[] lengths)
    {
        int o = config.OutputSize, size = config.StateSize, dirs = config.Directions, width = dirs * size, last = config.NumLayers - 1;
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
                for (int j = 0; j < size; j++)
                    acc += w[k * width + d * size + j] * final[((last * dirs + d) * batch + b) * size + j];
                y1[b * o + k] = acc;
            }
            return y1;
        }
        var y = new double[batch * time * o];
        for (int b = 0; b < batch; b++)
        for (int t = 0; t < lengths[b]; t++)
        for (int k = 0; k < o; k++)
        {
            double acc = bias[k];
            for (int j = 0; j < width; j++) acc += w[k * width + j] * top[(b * time + t) * width + j];
            y[(b * time + t) * o + k] = acc;
        }
        return y;
    }

    /// <summary>The mean loss PyTorch's MSELoss, CrossEntropyLoss or BCEWithLogitsLoss computes over the real steps.</summary>
    public double Loss(double[] x, double[] h0, double[] target, LossKind kind, int batch, int time,
        int[]? lengths = null, Func<int, int, float[]>? masks = null, double[]? c0 = null)
    {
        var (y, _, _) = Run(x, h0, c0, batch, time, lengths, masks);
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
