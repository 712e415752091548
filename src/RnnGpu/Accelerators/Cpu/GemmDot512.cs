using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace RnnGpu.Accelerators.Cpu;

/// <summary>
/// Dot-product kernels of <see cref="CpuGemmDot"/> with Vector512. Groups of 4 rows take blocks of 4 columns
/// (16 accumulators, 8 loads per 16 FMAs); the rows left over, and M = 1 (a matrix-vector product), take
/// blocks of 8 columns (8 independent accumulators, so the loop runs at the load rate, not the FMA latency).
/// Each output: 16 lanes summed over K in steps of 16, the lanes added (<see cref="GemmLaneSums"/>), then the scalar tail.
/// </summary>
internal static unsafe class GemmDot512
{
    /// <summary>C[.., j0..j1] of the product; j0 is a multiple of 8.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Compute(in GemmSpec s, float* a, float* b, float* c, int j0, int j1)
    {
        int i = 0;
        for (; i + 4 <= s.M; i += 4)
        {
            int j = j0;
            for (; j + 4 <= j1; j += 4) Block4x4(s, a, b, c, i, j);
            for (; j < j1; j++)
                for (int r = i; r < i + 4; r++) One(s, a, b, c, r, j);
        }
        for (; i < s.M; i++)
        {
            int j = j0;
            if (s.K % 16 == 0)
                for (; j + 16 <= j1; j += 16) Block1x16(s, a, b, c, i, j);
            for (; j + 8 <= j1; j += 8) Block1x8(s, a, b, c, i, j);
            for (; j < j1; j++) One(s, a, b, c, i, j);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Block4x4(in GemmSpec s, float* a, float* b, float* c, int i, int j)
    {
        float* x0 = a + (long)i * s.Lda, x1 = x0 + s.Lda, x2 = x1 + s.Lda, x3 = x2 + s.Lda;
        float* y0 = b + (long)j * s.Ldb, y1 = y0 + s.Ldb, y2 = y1 + s.Ldb, y3 = y2 + s.Ldb;
        Vector512<float> c00 = default, c01 = default, c02 = default, c03 = default;
        Vector512<float> c10 = default, c11 = default, c12 = default, c13 = default;
        Vector512<float> c20 = default, c21 = default, c22 = default, c23 = default;
        Vector512<float> c30 = default, c31 = default, c32 = default, c33 = default;
        int k = s.K, p = 0;
        for (; p + 16 <= k; p += 16)
        {
            var b0 = Vector512.Load(y0 + p); var b1 = Vector512.Load(y1 + p);
            var b2 = Vector512.Load(y2 + p); var b3 = Vector512.Load(y3 + p);
            var x = Vector512.Load(x0 + p);
            c00 = Vector512.FusedMultiplyAdd(x, b0, c00); c01 = Vector512.FusedMultiplyAdd(x, b1, c01);
            c02 = Vector512.FusedMultiplyAdd(x, b2, c02); c03 = Vector512.FusedMultiplyAdd(x, b3, c03);
            x = Vector512.Load(x1 + p);
            c10 = Vector512.FusedMultiplyAdd(x, b0, c10); c11 = Vector512.FusedMultiplyAdd(x, b1, c11);
            c12 = Vector512.FusedMultiplyAdd(x, b2, c12); c13 = Vector512.FusedMultiplyAdd(x, b3, c13);
            x = Vector512.Load(x2 + p);
            c20 = Vector512.FusedMultiplyAdd(x, b0, c20); c21 = Vector512.FusedMultiplyAdd(x, b1, c21);
            c22 = Vector512.FusedMultiplyAdd(x, b2, c22); c23 = Vector512.FusedMultiplyAdd(x, b3, c23);
            x = Vector512.Load(x3 + p);
            c30 = Vector512.FusedMultiplyAdd(x, b0, c30); c31 = Vector512.FusedMultiplyAdd(x, b1, c31);
            c32 = Vector512.FusedMultiplyAdd(x, b2, c32); c33 = Vector512.FusedMultiplyAdd(x, b3, c33);
        }
        // All sums first: a call with vectors live after the loop makes the JIT spill them inside it.
        var rows01 = GemmLaneSums.Of8(c00, c01, c02, c03, c10, c11, c12, c13);
        var rows23 = GemmLaneSums.Of8(c20, c21, c22, c23, c30, c31, c32, c33);
        float* r = stackalloc float[32];
        rows01.Store(r);
        rows23.Store(r + 16);
        Finish4(s, c, i, j, x0, y0, p, r, 0);
        Finish4(s, c, i + 1, j, x1, y0, p, r, 4);
        Finish4(s, c, i + 2, j, x2, y0, p, r + 16, 0);
        Finish4(s, c, i + 3, j, x3, y0, p, r + 16, 4);
    }

    /// <summary>C[i, j..j+3] from the lane sums of row x against B rows y0.. (Ldb apart), adding the tails from p.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Finish4(in GemmSpec s, float* c, int i, int j, float* x, float* y0, int p, float* sums, int slot0)
    {
        for (int q = 0; q < 4; q++)
            CpuGemmDot.Store(s, c, i, j + q, CpuGemmDot.Dot(x, y0 + q * (long)s.Ldb, p, s.K, sums[GemmLaneSums.Lane(slot0 + q)]));
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Block1x8(in GemmSpec s, float* a, float* b, float* c, int i, int j)
    {
        float* x = a + (long)i * s.Lda;
        float* y0 = b + (long)j * s.Ldb;
        long ld = s.Ldb;
        Vector512<float> c0 = default, c1 = default, c2 = default, c3 = default;
        Vector512<float> c4 = default, c5 = default, c6 = default, c7 = default;
        int k = s.K, p = 0;
        for (; p + 16 <= k; p += 16)
        {
            var xv = Vector512.Load(x + p);
            float* y = y0 + p;
            c0 = Vector512.FusedMultiplyAdd(xv, Vector512.Load(y), c0); y += ld;
            c1 = Vector512.FusedMultiplyAdd(xv, Vector512.Load(y), c1); y += ld;
            c2 = Vector512.FusedMultiplyAdd(xv, Vector512.Load(y), c2); y += ld;
            c3 = Vector512.FusedMultiplyAdd(xv, Vector512.Load(y), c3); y += ld;
            c4 = Vector512.FusedMultiplyAdd(xv, Vector512.Load(y), c4); y += ld;
            c5 = Vector512.FusedMultiplyAdd(xv, Vector512.Load(y), c5); y += ld;
            c6 = Vector512.FusedMultiplyAdd(xv, Vector512.Load(y), c6); y += ld;
            c7 = Vector512.FusedMultiplyAdd(xv, Vector512.Load(y), c7);
        }
        var sums = GemmLaneSums.Of8(c0, c1, c2, c3, c4, c5, c6, c7);
        float* r = stackalloc float[16];
        sums.Store(r);
        Finish4(s, c, i, j, x, y0, p, r, 0);
        Finish4(s, c, i, j + 4, x, y0 + 4 * ld, p, r, 4);
    }

    /// <summary>
    /// 16 columns of one row when K has no tail: 16 accumulators, their sums gathered into one vector and
    /// stored at once, which saves the per-output epilogue that dominates a matrix-vector product
    /// (batch-1 streaming). Same lanes, same sum tree and same store rounding as <see cref="Block1x8"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Block1x16(in GemmSpec s, float* a, float* b, float* c, int i, int j)
    {
        float* x = a + (long)i * s.Lda;
        float* y0 = b + (long)j * s.Ldb;
        long ld = s.Ldb;
        Vector512<float> c0 = default, c1 = default, c2 = default, c3 = default, c4 = default, c5 = default, c6 = default, c7 = default;
        Vector512<float> c8 = default, c9 = default, c10 = default, c11 = default, c12 = default, c13 = default, c14 = default, c15 = default;
        for (int p = 0; p < s.K; p += 16)
        {
            var xv = Vector512.Load(x + p);
            float* y = y0 + p;
            c0 = Vector512.FusedMultiplyAdd(xv, Vector512.Load(y), c0); y += ld;
            c1 = Vector512.FusedMultiplyAdd(xv, Vector512.Load(y), c1); y += ld;
            c2 = Vector512.FusedMultiplyAdd(xv, Vector512.Load(y), c2); y += ld;
            c3 = Vector512.FusedMultiplyAdd(xv, Vector512.Load(y), c3); y += ld;
            c4 = Vector512.FusedMultiplyAdd(xv, Vector512.Load(y), c4); y += ld;
            c5 = Vector512.FusedMultiplyAdd(xv, Vector512.Load(y), c5); y += ld;
            c6 = Vector512.FusedMultiplyAdd(xv, Vector512.Load(y), c6); y += ld;
            c7 = Vector512.FusedMultiplyAdd(xv, Vector512.Load(y), c7); y += ld;
            c8 = Vector512.FusedMultiplyAdd(xv, Vector512.Load(y), c8); y += ld;
            c9 = Vector512.FusedMultiplyAdd(xv, Vector512.Load(y), c9); y += ld;
            c10 = Vector512.FusedMultiplyAdd(xv, Vector512.Load(y), c10); y += ld;
            c11 = Vector512.FusedMultiplyAdd(xv, Vector512.Load(y), c11); y += ld;
            c12 = Vector512.FusedMultiplyAdd(xv, Vector512.Load(y), c12); y += ld;
            c13 = Vector512.FusedMultiplyAdd(xv, Vector512.Load(y), c13); y += ld;
            c14 = Vector512.FusedMultiplyAdd(xv, Vector512.Load(y), c14); y += ld;
            c15 = Vector512.FusedMultiplyAdd(xv, Vector512.Load(y), c15);
        }
        var lo = GemmLaneSums.Of8(c0, c1, c2, c3, c4, c5, c6, c7);
        var hi = GemmLaneSums.Of8(c8, c9, c10, c11, c12, c13, c14, c15);
        // Slot q's sum sits at lane Lane(q) = 0, 4, 8, 12, 1, 5, 9, 13 of each; indices 16+ read the second source.
        var sums = Avx512F.PermuteVar16x32x2(lo, Vector512.Create(0, 4, 8, 12, 1, 5, 9, 13, 16, 20, 24, 28, 17, 21, 25, 29), hi);
        float* out16 = c + (long)i * s.Ldc + j;
        var prior = s.Beta == 0f ? Vector512<float>.Zero : Vector512.Create(s.Beta) * Vector512.Load(out16);
        Vector512.FusedMultiplyAdd(Vector512.Create(s.Alpha), sums, prior).Store(out16);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void One(in GemmSpec s, float* a, float* b, float* c, int i, int j)
    {
        float* x = a + (long)i * s.Lda, y = b + (long)j * s.Ldb;
        var acc = Vector512<float>.Zero;
        int p = 0;
        for (; p + 16 <= s.K; p += 16) acc = Vector512.FusedMultiplyAdd(Vector512.Load(x + p), Vector512.Load(y + p), acc);
        var zero = Vector512<float>.Zero;
        float sum = GemmLaneSums.Of8(acc, zero, zero, zero, zero, zero, zero, zero).ToScalar();
        CpuGemmDot.Store(s, c, i, j, CpuGemmDot.Dot(x, y, p, s.K, sum));
    }
}
