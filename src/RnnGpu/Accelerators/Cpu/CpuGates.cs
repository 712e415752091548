using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace RnnGpu.Accelerators.Cpu;

/// <summary>
/// The LSTM's and GRU's gate kernels after a step's product, row by row (the formulas of <see cref="Accelerator.LstmPointwiseForwardCore"/>
/// and the three others). σ and tanh are System.Numerics.Tensors' vector versions; the backward products are 8-lane
/// vectors with a scalar tail of the same formula. Each row's result depends on its own values only, so a row computes
/// the same at every batch size.
/// </summary>
internal static unsafe class CpuGates
{
    [ThreadStatic] private static float[]? _row;

    private static Span<float> RowScratch(int length) => (_row is { } r && r.Length >= length ? r : _row = new float[length]).AsSpan(0, length);

    /// <summary>gates [batch, 4H]: i, f, g, o activated in place; c = f ⊙ cPrev + i ⊙ g; m = o ⊙ tanh(c).</summary>
    public static void LstmForward(int batch, int hidden, float* gates, float* cPrev, float* c, float* m)
    {
        int h = hidden;
        for (int b = 0; b < batch; b++)
        {
            var row = new Span<float>(gates + (long)b * 4 * h, 4 * h);
            var cRow = new Span<float>(c + (long)b * h, h);
            var mRow = new Span<float>(m + (long)b * h, h);
            TensorPrimitives.Sigmoid(row[..(2 * h)], row[..(2 * h)]);
            TensorPrimitives.Tanh(row.Slice(2 * h, h), row.Slice(2 * h, h));
            TensorPrimitives.Sigmoid(row.Slice(3 * h, h), row.Slice(3 * h, h));
            TensorPrimitives.Multiply(row.Slice(h, h), new ReadOnlySpan<float>(cPrev + (long)b * h, h), cRow);
            TensorPrimitives.FusedMultiplyAdd(row[..h], row.Slice(2 * h, h), cRow, cRow);
            TensorPrimitives.Tanh(cRow, mRow);
            TensorPrimitives.Multiply(mRow, row.Slice(3 * h, h), mRow);
        }
    }

    /// <summary>The LSTM step's gradients (<see cref="Accelerator.LstmPointwiseBackwardCore"/>): dGates [batch, 4H]; dc in place.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void LstmBackward(int batch, int hidden, float* gates, float* cPrev, float* c, float* dm, float* dc, float* dGates)
    {
        int h = hidden;
        var tc = RowScratch(h);
        for (int b = 0; b < batch; b++)
        {
            float* gi = gates + (long)b * 4 * h, gf = gi + h, gg = gf + h, go = gg + h;
            float* di = dGates + (long)b * 4 * h, df = di + h, dg = df + h, dO = dg + h;
            float* cp = cPrev + (long)b * h, dmr = dm + (long)b * h, dcr = dc + (long)b * h;
            TensorPrimitives.Tanh(new ReadOnlySpan<float>(c + (long)b * h, h), tc);
            int j = 0;
            fixed (float* t = tc)
            {
                var one = Vector256<float>.One;
                for (; j + 8 <= h; j += 8)
                {
                    Vector256<float> i = Vector256.Load(gi + j), f = Vector256.Load(gf + j), g = Vector256.Load(gg + j), o = Vector256.Load(go + j);
                    Vector256<float> th = Vector256.Load(t + j), dmv = Vector256.Load(dmr + j);
                    var dct = Vector256.Load(dcr + j) + dmv * o * (one - th * th);
                    (dct * g * i * (one - i)).Store(di + j);
                    (dct * Vector256.Load(cp + j) * f * (one - f)).Store(df + j);
                    (dct * i * (one - g * g)).Store(dg + j);
                    (dmv * th * o * (one - o)).Store(dO + j);
                    (dct * f).Store(dcr + j);
                }
                for (; j < h; j++)
                {
                    float i = gi[j], f = gf[j], g = gg[j], o = go[j], th = t[j], dmv = dmr[j];
                    float dct = dcr[j] + dmv * o * (1f - th * th);
                    di[j] = dct * g * i * (1f - i);
                    df[j] = dct * cp[j] * f * (1f - f);
                    dg[j] = dct * i * (1f - g * g);
                    dO[j] = dmv * th * o * (1f - o);
                    dcr[j] = dct * f;
                }
            }
        }
    }

    /// <summary>gates [batch, 3H] → r, z, n; a [batch, 3H] the recurrent projection with b_hh; h = (1 - z) n + z hPrev; hn = a_n.</summary>
    public static void GruForward(int batch, int hidden, float* gates, float* a, float* hPrev, float* hOut, float* hn)
    {
        int h = hidden;
        for (int b = 0; b < batch; b++)
        {
            var row = new Span<float>(gates + (long)b * 3 * h, 3 * h);
            var aRow = new ReadOnlySpan<float>(a + (long)b * 3 * h, 3 * h);
            var hnRow = new Span<float>(hn + (long)b * h, h);
            var hRow = new Span<float>(hOut + (long)b * h, h);
            TensorPrimitives.Add(row[..(2 * h)], aRow[..(2 * h)], row[..(2 * h)]);
            TensorPrimitives.Sigmoid(row[..(2 * h)], row[..(2 * h)]);
            aRow.Slice(2 * h, h).CopyTo(hnRow);
            var n = row.Slice(2 * h, h);
            TensorPrimitives.FusedMultiplyAdd(row[..h], hnRow, n, n);
            TensorPrimitives.Tanh(n, n);
            TensorPrimitives.Subtract(new ReadOnlySpan<float>(hPrev + (long)b * h, h), n, hRow);
            TensorPrimitives.FusedMultiplyAdd(row.Slice(h, h), hRow, n, hRow);
        }
    }

    /// <summary>The GRU step's gradients (<see cref="Accelerator.GruPointwiseBackwardCore"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void GruBackward(int batch, int hidden, float* gates, float* hn, float* hPrev, float* dh, float* dGates, float* dGatesHidden,
        float* dhPrev, bool accumulate)
    {
        int h = hidden;
        for (int b = 0; b < batch; b++)
        {
            float* gr = gates + (long)b * 3 * h, gz = gr + h, gn = gz + h;
            float* dr = dGates + (long)b * 3 * h, dz = dr + h, dn = dz + h;
            float* er = dGatesHidden + (long)b * 3 * h, ez = er + h, en = ez + h;
            float* hnr = hn + (long)b * h, hp = hPrev + (long)b * h, dhr = dh + (long)b * h, dp = dhPrev + (long)b * h;
            var one = Vector256<float>.One;
            var keep = accumulate ? one : Vector256<float>.Zero;
            float keepScalar = accumulate ? 1f : 0f;
            int j = 0;
            for (; j + 8 <= h; j += 8)
            {
                Vector256<float> r = Vector256.Load(gr + j), z = Vector256.Load(gz + j), n = Vector256.Load(gn + j), d = Vector256.Load(dhr + j);
                var dnp = d * (one - z) * (one - n * n);
                var dzp = d * (Vector256.Load(hp + j) - n) * z * (one - z);
                var drp = dnp * Vector256.Load(hnr + j) * r * (one - r);
                drp.Store(dr + j); drp.Store(er + j);
                dzp.Store(dz + j); dzp.Store(ez + j);
                dnp.Store(dn + j); (dnp * r).Store(en + j);
                (Vector256.Load(dp + j) * keep + d * z).Store(dp + j);
            }
            for (; j < h; j++)
            {
                float r = gr[j], z = gz[j], n = gn[j], d = dhr[j];
                float dnp = d * (1f - z) * (1f - n * n);
                float dzp = d * (hp[j] - n) * z * (1f - z);
                float drp = dnp * hnr[j] * r * (1f - r);
                dr[j] = er[j] = drp;
                dz[j] = ez[j] = dzp;
                dn[j] = dnp;
                en[j] = dnp * r;
                dp[j] = dp[j] * keepScalar + d * z;
            }
        }
    }
}
