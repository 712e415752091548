using System.Runtime.CompilerServices;

namespace RnnGpu.Accelerators.Cpu;

/// <summary>
/// The cache-blocked GEMM driver around one micro-kernel (Goto/BLIS loop order, sized for Zen 4/5:
/// 32-48 KB L1d and 1 MB L2 per core). For each nc-wide block of columns and kc-deep slice of K, op(B) is
/// packed once ([kc x nc], at most 512 KB, held in L2); then for each Mr rows a [kc x Mr] micro-panel
/// of A (8 KB, held in L1) is packed and swept across all the B panels. B stored [K, N] can instead be
/// read in place (small M, where packing it would cost more than the product).
/// Threads take stripes of whole panels (columns when N is the larger side, rows otherwise: each thread
/// repacks the other operand, so the smaller one is repeated). K is never split, and each element's sum
/// runs over K in one fixed order, so results do not depend on the number of threads.
/// </summary>
internal sealed unsafe class GemmBlocked<TKernel> : ITeamWork where TKernel : IGemmKernel
{
    private const int Kc = 256, Nc = 512;

    [ThreadStatic] private static GemmBlocked<TKernel>? _reused;

    private GemmSpec _s;
    private float* _a, _b, _c;
    private float* _bias;   // [N] added to every row of C with the last slice of K, or null
    private bool _packB, _byRows;
    private int _units;

    /// <summary>C = alpha op(A) op(B) + beta C (+ bias) for one product; <paramref name="packB"/> false needs B stored [K, N].</summary>
    public static void Run(in GemmSpec s, float* a, float* b, float* c, bool packB, int threads, float* bias = null)
    {
        var job = _reused ??= new GemmBlocked<TKernel>();
        int rowUnits = (s.M + TKernel.Mr - 1) / TKernel.Mr, colUnits = (s.N + TKernel.Nr - 1) / TKernel.Nr;
        job._s = s;
        job._a = a;
        job._b = b;
        job._c = c;
        job._bias = bias;
        job._packB = packB;
        job._byRows = s.M > s.N ? rowUnits > 1 : colUnits == 1;
        job._units = job._byRows ? rowUnits : colUnits;
        GemmThreading.Run(job, 2L * s.M * s.N * s.K, threads);
    }

    public void Run(int member, int members)
    {
        int u0 = (int)((long)_units * member / members), u1 = (int)((long)_units * (member + 1) / members);
        if (u0 == u1) return;
        if (_byRows) Compute(u0 * TKernel.Mr, Math.Min(u1 * TKernel.Mr, _s.M), 0, _s.N);
        else Compute(0, _s.M, u0 * TKernel.Nr, Math.Min(u1 * TKernel.Nr, _s.N));
    }

    /// <summary>C[r0..r1, c0..c1] of the product.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Compute(int r0, int r1, int c0, int c1)
    {
        int mr = TKernel.Mr, nr = TKernel.Nr;
        float* bp = GemmScratch.For((long)Kc * Nc + Kc * nr + Kc * mr + mr * nr);
        float* edgePanel = bp + (long)Kc * Nc, ap = edgePanel + Kc * nr, tile = ap + Kc * mr;
        for (int jc = c0; jc < c1; jc += Nc)
        {
            int nc = Math.Min(Nc, c1 - jc);
            for (int p0 = 0; p0 < _s.K; p0 += Kc)
            {
                // Slices of K fixed by its size only, so the same for every thread count; C takes each in turn.
                int kc = Math.Min(Kc, _s.K - p0);
                float beta = p0 == 0 ? _s.Beta : 1f;
                float* bias = p0 + kc == _s.K && _bias is not null ? _bias + jc : null;
                if (_packB) GemmPacking.PackB(_s, _b, p0, kc, jc, nc, nr, bp);
                else if (nc % nr != 0) GemmPacking.PackB(_s, _b, p0, kc, jc + nc / nr * nr, nc % nr, nr, edgePanel);
                for (int ir = r0; ir < r1; ir += mr)
                {
                    int rows = Math.Min(mr, r1 - ir);
                    GemmPacking.PackA(_s, _a, ir, rows, p0, kc, mr, ap);
                    float* cRow = _c + (long)ir * _s.Ldc + jc;
                    for (int jr = 0; jr < nc; jr += nr)
                    {
                        int cols = Math.Min(nr, nc - jr);
                        float* panel = _packB ? bp + (long)jr * kc : cols == nr ? _b + (long)p0 * _s.Ldb + jc + jr : edgePanel;
                        long stride = _packB || cols < nr ? nr : _s.Ldb;
                        float* tileBias = bias is null ? null : bias + jr;
                        if (rows == mr && cols == nr)
                            TKernel.Run(kc, ap, panel, stride, cRow + jr, _s.Ldc, _s.Alpha, beta, tileBias);
                        else
                        {
                            TKernel.Run(kc, ap, panel, stride, tile, nr, 1f, 0f, null);
                            MergeEdge(tile, nr, cRow + jr, rows, cols, beta, tileBias);
                        }
                    }
                }
            }
        }
    }

    /// <summary>The part of a padded tile inside C, stored with the kernels' rounding: alpha t + (beta C), then + bias.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void MergeEdge(float* tile, int nr, float* c, int rows, int cols, float beta, float* bias)
    {
        for (int r = 0; r < rows; r++, tile += nr, c += _s.Ldc)
        for (int j = 0; j < cols; j++)
        {
            float v = MathF.FusedMultiplyAdd(_s.Alpha, tile[j], beta == 0f ? 0f : beta * c[j]);
            c[j] = bias is null ? v : v + bias[j];
        }
    }
}
