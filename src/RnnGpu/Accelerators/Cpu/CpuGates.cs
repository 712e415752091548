using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace RnnGpu.Accelerators.Cpu;

/// <summary>
/// The LSTM's and GRU's gate kernels after a step's product, row by row (the formulas of <see cref="Accelerator.LstmPointwiseForwardCore"/>
/// and the three others), one pass over each row in 8-lane vectors: tanh is <see cref="CpuTanh"/>'s, inlined, and
/// σ(x) = (1 + tanh(x / 2)) / 2, so a gate costs one tanh; the columns past the last 8 take the same formulas on one lane
/// (MathF.Tanh). Each row's result depends on its own values only, so a row computes the same at every batch size.
/// </summary>
internal static unsafe class CpuGates
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Sigmoid(Vector256<float> x) =>
        Vector256.FusedMultiplyAdd(CpuTanh.Of(x * Vector256.Create(0.5f)), Vector256.Create(0.5f), Vector256.Create(0.5f));

    private static float Sigmoid(float x) => 0.5f + 0.5f * MathF.Tanh(0.5f * x);

    /// <summary>gates [batch, 4H]: i, f, g, o activated in place; c = f ⊙ cPrev + i ⊙ g; m = o ⊙ tanh(c).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void LstmForward(int batch, int hidden, float* gates, float* cPrev, float* c, float* m) =>
        LstmForward(batch, hidden, 0, hidden, gates, cPrev, c, m);

    /// <summary><see cref="LstmForward(int, int, float*, float*, float*, float*)"/> on the units [j0, h1) of each row (j0 a multiple of 8).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void LstmForward(int batch, int hidden, int j0, int h1, float* gates, float* cPrev, float* c, float* m)
    {
        int h = hidden;
        for (int b = 0; b < batch; b++)
        {
            float* gi = gates + (long)b * 4 * h, gf = gi + h, gg = gf + h, go = gg + h;
            float* cp = cPrev + (long)b * h, cr = c + (long)b * h, mr = m + (long)b * h;
            int j = j0;
            for (; j + 8 <= h1; j += 8)
            {
                var i = Sigmoid(Vector256.Load(gi + j));
                var f = Sigmoid(Vector256.Load(gf + j));
                var g = CpuTanh.Of(Vector256.Load(gg + j));
                var o = Sigmoid(Vector256.Load(go + j));
                var cell = Vector256.FusedMultiplyAdd(f, Vector256.Load(cp + j), i * g);
                i.Store(gi + j); f.Store(gf + j); g.Store(gg + j); o.Store(go + j);
                cell.Store(cr + j);
                (o * CpuTanh.Of(cell)).Store(mr + j);
            }
            for (; j < h1; j++)
            {
                float i = Sigmoid(gi[j]), f = Sigmoid(gf[j]), g = MathF.Tanh(gg[j]), o = Sigmoid(go[j]);
                float cell = f * cp[j] + i * g;
                (gi[j], gf[j], gg[j], go[j], cr[j]) = (i, f, g, o, cell);
                mr[j] = o * MathF.Tanh(cell);
            }
        }
    }

    /// <summary>The LSTM step's gradients (<see cref="Accelerator.LstmPointwiseBackwardCore"/>): dGates [batch, 4H]; dc in place.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void LstmBackward(int batch, int hidden, float* gates, float* cPrev, float* c, float* dm, float* dc, float* dGates) =>
        LstmBackward(batch, hidden, 0, hidden, gates, cPrev, c, dm, dc, dGates);

    /// <summary><see cref="LstmBackward(int, int, float*, float*, float*, float*, float*, float*)"/> on the units [j0, h1) of each row (j0 a multiple of 8).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void LstmBackward(int batch, int hidden, int j0, int h1, float* gates, float* cPrev, float* c, float* dm, float* dc, float* dGates)
    {
        int h = hidden;
        var one = Vector256<float>.One;
        for (int b = 0; b < batch; b++)
        {
            float* gi = gates + (long)b * 4 * h, gf = gi + h, gg = gf + h, go = gg + h;
            float* di = dGates + (long)b * 4 * h, df = di + h, dg = df + h, dO = dg + h;
            float* cp = cPrev + (long)b * h, cr = c + (long)b * h, dmr = dm + (long)b * h, dcr = dc + (long)b * h;
            int j = j0;
            for (; j + 8 <= h1; j += 8)
            {
                Vector256<float> i = Vector256.Load(gi + j), f = Vector256.Load(gf + j), g = Vector256.Load(gg + j), o = Vector256.Load(go + j);
                Vector256<float> th = CpuTanh.Of(Vector256.Load(cr + j)), dmv = Vector256.Load(dmr + j);
                var dct = Vector256.Load(dcr + j) + dmv * o * (one - th * th);
                (dct * g * i * (one - i)).Store(di + j);
                (dct * Vector256.Load(cp + j) * f * (one - f)).Store(df + j);
                (dct * i * (one - g * g)).Store(dg + j);
                (dmv * th * o * (one - o)).Store(dO + j);
                (dct * f).Store(dcr + j);
            }
            for (; j < h1; j++)
            {
                float i = gi[j], f = gf[j], g = gg[j], o = go[j], th = MathF.Tanh(cr[j]), dmv = dmr[j];
                float dct = dcr[j] + dmv * o * (1f - th * th);
                di[j] = dct * g * i * (1f - i);
                df[j] = dct * cp[j] * f * (1f - f);
                dg[j] = dct * i * (1f - g * g);
                dO[j] = dmv * th * o * (1f - o);
                dcr[j] = dct * f;
            }
        }
    }

    /// <summary>gates [batch, 3H] → r, z, n; a [batch, 3H] the recurrent projection with b_hh; h = n + z (hPrev - n); hn = a_n.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void GruForward(int batch, int hidden, float* gates, float* a, float* hPrev, float* hOut, float* hn) =>
        GruForward(batch, hidden, 0, hidden, gates, a, hPrev, hOut, hn);

    /// <summary><see cref="GruForward(int, int, float*, float*, float*, float*, float*)"/> on the units [j0, h1) of each row (j0 a multiple of 8).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void GruForward(int batch, int hidden, int j0, int h1, float* gates, float* a, float* hPrev, float* hOut, float* hn)
    {
        int h = hidden;
        for (int b = 0; b < batch; b++)
        {
            float* gr = gates + (long)b * 3 * h, gz = gr + h, gn = gz + h;
            float* ar = a + (long)b * 3 * h, az = ar + h, an = az + h;
            float* hp = hPrev + (long)b * h, ho = hOut + (long)b * h, hnr = hn + (long)b * h;
            int j = j0;
            for (; j + 8 <= h1; j += 8)
            {
                var r = Sigmoid(Vector256.Load(gr + j) + Vector256.Load(ar + j));
                var z = Sigmoid(Vector256.Load(gz + j) + Vector256.Load(az + j));
                var av = Vector256.Load(an + j);
                var n = CpuTanh.Of(Vector256.FusedMultiplyAdd(r, av, Vector256.Load(gn + j)));
                r.Store(gr + j); z.Store(gz + j); n.Store(gn + j); av.Store(hnr + j);
                Vector256.FusedMultiplyAdd(z, Vector256.Load(hp + j) - n, n).Store(ho + j);
            }
            for (; j < h1; j++)
            {
                float r = Sigmoid(gr[j] + ar[j]), z = Sigmoid(gz[j] + az[j]), av = an[j], n = MathF.Tanh(r * av + gn[j]);
                (gr[j], gz[j], gn[j], hnr[j]) = (r, z, n, av);
                ho[j] = z * (hp[j] - n) + n;
            }
        }
    }

    /// <summary>The GRU step's gradients (<see cref="Accelerator.GruPointwiseBackwardCore"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void GruBackward(int batch, int hidden, float* gates, float* hn, float* hPrev, float* dh, float* dGates, float* dGatesHidden,
        float* dhPrev, bool accumulate) =>
        GruBackward(batch, hidden, 0, hidden, gates, hn, hPrev, dh, dGates, dGatesHidden, dhPrev, accumulate);

    /// <summary><see cref="GruBackward(int, int, float*, float*, float*, float*, float*, float*, float*, bool)"/> on the units [j0, h1) of each row (j0 a multiple of 8).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void GruBackward(int batch, int hidden, int j0, int h1, float* gates, float* hn, float* hPrev, float* dh, float* dGates,
        float* dGatesHidden, float* dhPrev, bool accumulate)
    {
        int h = hidden;
        var one = Vector256<float>.One;
        var keep = accumulate ? one : Vector256<float>.Zero;
        float keepScalar = accumulate ? 1f : 0f;
        for (int b = 0; b < batch; b++)
        {
            float* gr = gates + (long)b * 3 * h, gz = gr + h, gn = gz + h;
            float* dr = dGates + (long)b * 3 * h, dz = dr + h, dn = dz + h;
            float* er = dGatesHidden + (long)b * 3 * h, ez = er + h, en = ez + h;
            float* hnr = hn + (long)b * h, hp = hPrev + (long)b * h, dhr = dh + (long)b * h, dp = dhPrev + (long)b * h;
            int j = j0;
            for (; j + 8 <= h1; j += 8)
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
            for (; j < h1; j++)
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
