using ILGPU;

namespace RnnGpu.Kernels;

/// <summary>
/// The LSTM's and GRU's gate kernels after a step's product, one thread per (row, unit) in a grid-stride loop over
/// n = batch * hidden; the formulas are the back-end contract's (Accelerator.LstmPointwiseForwardCore and the three
/// others). Row b's gates are the 4H (LSTM: i, f, g, o) or 3H (GRU: r, z, n) floats at b * gates * H.
///   LstmForward:  gates [batch, 4H] pre-activations → activated; c = f cPrev + i g; m = o tanh(c)      cPrev, c, m: [batch, H]
///   LstmBackward: dGates [batch, 4H] and dc (in place) from the activated gates, cPrev, c and dm       [batch, H]
///   GruForward:   gates [batch, 3H] + a [batch, 3H] (h W_hh^T + b_hh) → r, z, n; h, hn = a_n          hPrev, h, hn: [batch, H]
///   GruBackward:  dGates, dGatesHidden [batch, 3H]; dhPrev = keep dhPrev + dh z                         [batch, H]
/// Launch: 1-D, any number of groups of any size (as <see cref="Elementwise"/>).
/// </summary>
public static class Gates
{
    private static long First => Grid.GlobalLinearIndex;

    private static long Stride => (long)Grid.DimX * Group.DimX;

    public static void LstmForward(ArrayView<float> gates, ArrayView<float> cPrev, ArrayView<float> c, ArrayView<float> m, long n, int hidden)
    {
        for (long e = First; e < n; e += Stride)
        {
            long gi = e / hidden * 4 * hidden + e % hidden;
            float i = DeviceMath.Sigmoid(gates[gi]), f = DeviceMath.Sigmoid(gates[gi + hidden]);
            float g = DeviceMath.Tanh(gates[gi + 2 * hidden]), o = DeviceMath.Sigmoid(gates[gi + 3 * hidden]);
            gates[gi] = i;
            gates[gi + hidden] = f;
            gates[gi + 2 * hidden] = g;
            gates[gi + 3 * hidden] = o;
            float cell = f * cPrev[e] + i * g;
            c[e] = cell;
            m[e] = o * DeviceMath.Tanh(cell);
        }
    }

    public static void LstmBackward(ArrayView<float> gates, ArrayView<float> cPrev, ArrayView<float> c, ArrayView<float> dm, ArrayView<float> dc,
        ArrayView<float> dGates, long n, int hidden)
    {
        for (long e = First; e < n; e += Stride)
        {
            long gi = e / hidden * 4 * hidden + e % hidden;
            float i = gates[gi], f = gates[gi + hidden], g = gates[gi + 2 * hidden], o = gates[gi + 3 * hidden];
            float th = DeviceMath.Tanh(c[e]), d = dm[e];
            float dct = dc[e] + d * o * (1f - th * th);
            dGates[gi] = dct * g * i * (1f - i);
            dGates[gi + hidden] = dct * cPrev[e] * f * (1f - f);
            dGates[gi + 2 * hidden] = dct * i * (1f - g * g);
            dGates[gi + 3 * hidden] = d * th * o * (1f - o);
            dc[e] = dct * f;
        }
    }

    public static void GruForward(ArrayView<float> gates, ArrayView<float> a, ArrayView<float> hPrev, ArrayView<float> h, ArrayView<float> hn, long n,
        int hidden)
    {
        for (long e = First; e < n; e += Stride)
        {
            long gi = e / hidden * 3 * hidden + e % hidden;
            float r = DeviceMath.Sigmoid(gates[gi] + a[gi]), z = DeviceMath.Sigmoid(gates[gi + hidden] + a[gi + hidden]);
            float an = a[gi + 2 * hidden], cand = DeviceMath.Tanh(gates[gi + 2 * hidden] + r * an);
            gates[gi] = r;
            gates[gi + hidden] = z;
            gates[gi + 2 * hidden] = cand;
            hn[e] = an;
            h[e] = cand + z * (hPrev[e] - cand);
        }
    }

    public static void GruBackward(ArrayView<float> gates, ArrayView<float> hn, ArrayView<float> hPrev, ArrayView<float> dh, ArrayView<float> dGates,
        ArrayView<float> dGatesHidden, ArrayView<float> dhPrev, long n, int hidden, float keep)
    {
        for (long e = First; e < n; e += Stride)
        {
            long gi = e / hidden * 3 * hidden + e % hidden;
            float r = gates[gi], z = gates[gi + hidden], cand = gates[gi + 2 * hidden], d = dh[e];
            float dnp = d * (1f - z) * (1f - cand * cand);
            float dzp = d * (hPrev[e] - cand) * z * (1f - z);
            float drp = dnp * hn[e] * r * (1f - r);
            dGates[gi] = drp;
            dGates[gi + hidden] = dzp;
            dGates[gi + 2 * hidden] = dnp;
            dGatesHidden[gi] = drp;
            dGatesHidden[gi + hidden] = dzp;
            dGatesHidden[gi + 2 * hidden] = dnp * r;
            dhPrev[e] = dhPrev[e] * keep + d * z;
        }
    }
}
