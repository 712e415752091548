namespace RnnGpu.Tests.Model;

/// <summary>The recurrent cells with PyTorch's semantics and parameter names (nn.LSTM, nn.GRU).</summary>
public enum ReferenceCellKind { Lstm, Gru }

/// <summary>
/// An independent float64 LSTM or GRU stack, written straight from PyTorch's equations with scalar loops on the
/// batch-first layout, for the cells of issue 14: the oracle their kernels will be held to, itself held to PyTorch
/// by ReferenceCellTests. Parameters by PyTorch's names without a prefix (weight_ih_l0, weight_hr_l0, ..._reverse).
///   LSTM, row blocks i, f, g, o of weight_ih [4H, in], weight_hh [4H, P or H], the biases [4H]:
///     c_t = f ⊙ c_{t-1} + i ⊙ g, h_t = o ⊙ tanh(c_t), then h_t = W_hr h_t with a projection (weight_hr [P, H]).
///   GRU, row blocks r, z, n: n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn)), h_t = (1 - z) ⊙ n + z ⊙ h_{t-1}.
/// Each sequence runs its own length; the reverse direction runs it from its last step back to step 0; padded steps
/// output zeros; the final state is the state after a sequence's last step in each direction.
/// </summary>
public sealed class ReferenceCells(ReferenceCellKind kind, int inputSize, int hidden, int projection, int layers, bool bidirectional,
    IReadOnlyDictionary<string, double[]> parameters)
{
    private int Directions => bidirectional ? 2 : 1;

    /// <summary>The width of a direction's output and h: the projection's, else the hidden size.</summary>
    public int StateWidth => projection > 0 ? projection : hidden;

    /// <summary>
    /// x [B, T, I], h0 [L*D, B, StateWidth], c0 [L*D, B, H] (LSTM only). Returns the top layer's output
    /// [B, T, D*StateWidth] and the final h [L*D, B, StateWidth] and c [L*D, B, H] (empty for a GRU).
    /// </summary>
    public (double[] Output, double[] HN, double[] CN) Forward(double[] x, double[] h0, double[]? c0, int batch, int time, int[]? lengths)
    {
        lengths ??= Enumerable.Repeat(time, batch).ToArray();
        int width = StateWidth, dirs = Directions;
        var hn = new double[layers * dirs * batch * width];
        var cn = kind == ReferenceCellKind.Lstm ? new double[layers * dirs * batch * hidden] : [];
        var layerInput = x;
        int inSize = inputSize;
        for (int l = 0; l < layers; l++)
        {
            var output = new double[batch * time * dirs * width];
            for (int d = 0; d < dirs; d++)
            {
                string suffix = $"_l{l}{(d == 1 ? "_reverse" : "")}";
                var wih = parameters["weight_ih" + suffix];
                var whh = parameters["weight_hh" + suffix];
                var bih = parameters["bias_ih" + suffix];
                var bhh = parameters["bias_hh" + suffix];
                var whr = projection > 0 ? parameters["weight_hr" + suffix] : null;
                int group = l * dirs + d;
                for (int b = 0; b < batch; b++)
                {
                    var h = h0.AsSpan((group * batch + b) * width, width).ToArray();
                    var c = kind == ReferenceCellKind.Lstm ? c0!.AsSpan((group * batch + b) * hidden, hidden).ToArray() : [];
                    for (int s = 0; s < lengths[b]; s++)
                    {
                        int t = d == 0 ? s : lengths[b] - 1 - s;
                        var xt = layerInput.AsSpan((b * time + t) * inSize, inSize);
                        h = kind == ReferenceCellKind.Lstm ? LstmStep(xt, h, c, wih, whh, bih, bhh, whr) : GruStep(xt, h, wih, whh, bih, bhh);
                        h.CopyTo(output.AsSpan((b * time + t) * dirs * width + d * width, width));
                    }
                    h.CopyTo(hn.AsSpan((group * batch + b) * width, width));
                    if (kind == ReferenceCellKind.Lstm) c.CopyTo(cn.AsSpan((group * batch + b) * hidden, hidden));
                }
            }
            layerInput = output;
            inSize = dirs * width;
        }
        return (layerInput, hn, cn);
    }

    /// <summary>One LSTM step; c is updated in place; returns the new h (projected when weight_hr is given).</summary>
    private double[] LstmStep(ReadOnlySpan<double> x, double[] h, double[] c, double[] wih, double[] whh, double[] bih, double[] bhh, double[]? whr)
    {
        var gates = Gates(x, h, wih, whh, bih, bhh, 4);
        var full = new double[hidden];
        for (int j = 0; j < hidden; j++)
        {
            double i = Sigmoid(gates[j]), f = Sigmoid(gates[hidden + j]), g = Math.Tanh(gates[2 * hidden + j]), o = Sigmoid(gates[3 * hidden + j]);
            c[j] = f * c[j] + i * g;
            full[j] = o * Math.Tanh(c[j]);
        }
        if (whr is null) return full;
        var projected = new double[projection];
        for (int p = 0; p < projection; p++)
            for (int j = 0; j < hidden; j++) projected[p] += whr[p * hidden + j] * full[j];
        return projected;
    }

    private double[] GruStep(ReadOnlySpan<double> x, double[] h, double[] wih, double[] whh, double[] bih, double[] bhh)
    {
        int inSize = x.Length, width = h.Length;
        var next = new double[hidden];
        for (int j = 0; j < hidden; j++)
        {
            double ir = bih[j], iz = bih[hidden + j], inn = bih[2 * hidden + j];
            double hr = bhh[j], hz = bhh[hidden + j], hn = bhh[2 * hidden + j];
            for (int k = 0; k < inSize; k++)
            {
                ir += wih[j * inSize + k] * x[k];
                iz += wih[(hidden + j) * inSize + k] * x[k];
                inn += wih[(2 * hidden + j) * inSize + k] * x[k];
            }
            for (int k = 0; k < width; k++)
            {
                hr += whh[j * width + k] * h[k];
                hz += whh[(hidden + j) * width + k] * h[k];
                hn += whh[(2 * hidden + j) * width + k] * h[k];
            }
            double r = Sigmoid(ir + hr), z = Sigmoid(iz + hz), n = Math.Tanh(inn + r * hn);
            next[j] = (1 - z) * n + z * h[j];
        }
        return next;
    }

    /// <summary>W_ih x + b_ih + W_hh h + b_hh for all gate rows: [gates x H].</summary>
    private double[] Gates(ReadOnlySpan<double> x, double[] h, double[] wih, double[] whh, double[] bih, double[] bhh, int gates)
    {
        int inSize = x.Length, width = h.Length;
        var pre = new double[gates * hidden];
        for (int r = 0; r < pre.Length; r++)
        {
            double acc = bih[r] + bhh[r];
            for (int k = 0; k < inSize; k++) acc += wih[r * inSize + k] * x[k];
            for (int k = 0; k < width; k++) acc += whh[r * width + k] * h[k];
            pre[r] = acc;
        }
        return pre;
    }

    private static double Sigmoid(double v) => 1 / (1 + Math.Exp(-v));
}
