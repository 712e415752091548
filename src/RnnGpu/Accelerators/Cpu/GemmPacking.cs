using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace RnnGpu.Accelerators.Cpu;

/// <summary>
/// Copies blocks of op(A) and op(B) into the layouts the micro-kernels stream, transposes resolved here.
/// A micro-panel: [kc][mr], the mr rows of one column of op(A) side by side. B panels: [kc][nr] each,
/// one after another for every nr columns. Rows or columns past the edge are zero, so an edge tile computes
/// zeros in its padding, which the driver leaves out.
/// </summary>
internal static unsafe class GemmPacking
{
    /// <summary>ap[p, r] = op(A)[i0 + r, p0 + p] for p &lt; kc, r &lt; rows; zero for rows &lt;= r &lt; mr.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void PackA(in GemmSpec s, float* a, int i0, int rows, int p0, int kc, int mr, float* ap)
    {
        if (rows < mr)
            new Span<float>(ap, kc * mr).Clear();
        if (s.TransA)
        {
            // A stored [K, M]: the rows of one column of op(A) are already contiguous, a vector of 8 for a whole panel.
            float* src = a + (long)p0 * s.Lda + i0;
            if (rows == 8 && mr == 8 && Vector256.IsHardwareAccelerated)
                for (int p = 0; p < kc; p++, src += s.Lda, ap += mr) Vector256.Store(Vector256.Load(src), ap);
            else
                for (int p = 0; p < kc; p++, src += s.Lda, ap += mr)
                    for (int r = 0; r < rows; r++) ap[r] = src[r];
            return;
        }
        int p8 = 0;
        if (rows == 8 && mr == 8 && GemmTranspose.IsSupported)
            for (; p8 + 8 <= kc; p8 += 8)
                GemmTranspose.Block8x8(a + (long)i0 * s.Lda + p0 + p8, s.Lda, ap + p8 * 8, 8);
        for (int r = 0; r < rows; r++)
        {
            float* src = a + (long)(i0 + r) * s.Lda + p0, dst = ap + r;
            for (int p = p8; p < kc; p++) dst[p * mr] = src[p];
        }
    }

    /// <summary>Panels of nr columns: bp[q][p, j] = op(B)[p0 + p, j0 + q nr + j] for j0 + q nr + j &lt; j0 + cols, zero past it.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void PackB(in GemmSpec s, float* b, int p0, int kc, int j0, int cols, int nr, float* bp)
    {
        for (int q = 0; q * nr < cols; q++, bp += (long)kc * nr)
        {
            int width = Math.Min(nr, cols - q * nr), j = j0 + q * nr;
            if (width < nr)
                new Span<float>(bp, kc * nr).Clear();
            if (!s.TransB)
            {
                float* src = b + (long)p0 * s.Ldb + j;
                for (int p = 0; p < kc; p++, src += s.Ldb) CopyRow(src, bp + p * nr, width);
                continue;
            }
            // B stored [N, K]: column j of op(B) is row j of B, contiguous along K.
            int jj = 0;
            if (GemmTranspose.IsSupported)
                for (; jj + 8 <= width; jj += 8)
                {
                    float* src = b + (long)(j + jj) * s.Ldb + p0;
                    int p = 0;
                    for (; p + 8 <= kc; p += 8) GemmTranspose.Block8x8(src + p, s.Ldb, bp + p * nr + jj, nr);
                    for (; p < kc; p++)
                        for (int r = 0; r < 8; r++) bp[p * nr + jj + r] = src[r * (long)s.Ldb + p];
                }
            for (; jj < width; jj++)
            {
                float* src = b + (long)(j + jj) * s.Ldb + p0, dst = bp + jj;
                for (int p = 0; p < kc; p++) dst[p * nr] = src[p];
            }
        }
    }

    /// <summary>dst[0..n) = src[0..n) in vectors: a panel row is 16-32 floats, too short to pay a memmove call for each
    /// (perf of a 1-thread `rnngpu bench --mode train` at batch 64 × 100 × 64 × 256: 6% of the step went to those calls).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void CopyRow(float* src, float* dst, int n)
    {
        int j = 0;
        if (Vector512.IsHardwareAccelerated)
            for (; j + 16 <= n; j += 16) Vector512.Store(Vector512.Load(src + j), dst + j);
        if (Vector256.IsHardwareAccelerated)
            for (; j + 8 <= n; j += 8) Vector256.Store(Vector256.Load(src + j), dst + j);
        for (; j < n; j++) dst[j] = src[j];
    }
}
