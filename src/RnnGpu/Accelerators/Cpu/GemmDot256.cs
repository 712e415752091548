using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace RnnGpu.Accelerators.Cpu;

/// <summary>
/// Dot-product kernels of <see cref="CpuGemmDot"/> with Vector256 (16 registers): blocks of 2 rows x 4 columns
/// (8 accumulators, 6 loads per 8 FMAs), the last odd row 8 columns at a time, the last columns one output at a time.
/// Each output: 8 lanes summed over K in steps of 8, the lanes added, then the scalar tail.
/// </summary>
internal static unsafe class GemmDot256
{
    /// <summary>C[.., j0..j1] of the product; j0 is a multiple of 8.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Compute(in GemmSpec s, float* a, float* b, float* c, int j0, int j1)
    {
        int i = 0;
        for (; i + 2 <= s.M; i += 2)
        {
            int j = j0;
            for (; j + 4 <= j1; j += 4) Block2x4(s, a, b, c, i, j);
            for (; j < j1; j++)
            {
                One(s, a, b, c, i, j);
                One(s, a, b, c, i + 1, j);
            }
        }
        for (; i < s.M; i++)
        {
            int j = j0;
            for (; j + 8 <= j1; j += 8) Block1x8(s, a, b, c, i, j);
            for (; j < j1; j++) One(s, a, b, c, i, j);
        }
    }

    /// <summary>The last odd row (a batch of one: a matrix-vector product) 8 columns at a time: 8 independent chains, not one.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Block1x8(in GemmSpec s, float* a, float* b, float* c, int i, int j)
    {
        float* x = a + (long)i * s.Lda, y0 = b + (long)j * s.Ldb;
        long ldb = s.Ldb;
        Vector256<float> c0 = default, c1 = default, c2 = default, c3 = default, c4 = default, c5 = default, c6 = default, c7 = default;
        int p = 0;
        for (; p + 8 <= s.K; p += 8)
        {
            var v = Vector256.Load(x + p);
            float* y = y0 + p;
            c0 = Vector256.FusedMultiplyAdd(v, Vector256.Load(y), c0);
            c1 = Vector256.FusedMultiplyAdd(v, Vector256.Load(y + ldb), c1);
            c2 = Vector256.FusedMultiplyAdd(v, Vector256.Load(y + 2 * ldb), c2);
            c3 = Vector256.FusedMultiplyAdd(v, Vector256.Load(y + 3 * ldb), c3);
            c4 = Vector256.FusedMultiplyAdd(v, Vector256.Load(y + 4 * ldb), c4);
            c5 = Vector256.FusedMultiplyAdd(v, Vector256.Load(y + 5 * ldb), c5);
            c6 = Vector256.FusedMultiplyAdd(v, Vector256.Load(y + 6 * ldb), c6);
            c7 = Vector256.FusedMultiplyAdd(v, Vector256.Load(y + 7 * ldb), c7);
        }
        // All sums first, as in Block2x4; each output then as One computes it.
        float r0 = Vector256.Sum(c0), r1 = Vector256.Sum(c1), r2 = Vector256.Sum(c2), r3 = Vector256.Sum(c3);
        float r4 = Vector256.Sum(c4), r5 = Vector256.Sum(c5), r6 = Vector256.Sum(c6), r7 = Vector256.Sum(c7);
        CpuGemmDot.Store(s, c, i, j, CpuGemmDot.Dot(x, y0, p, s.K, r0));
        CpuGemmDot.Store(s, c, i, j + 1, CpuGemmDot.Dot(x, y0 + ldb, p, s.K, r1));
        CpuGemmDot.Store(s, c, i, j + 2, CpuGemmDot.Dot(x, y0 + 2 * ldb, p, s.K, r2));
        CpuGemmDot.Store(s, c, i, j + 3, CpuGemmDot.Dot(x, y0 + 3 * ldb, p, s.K, r3));
        CpuGemmDot.Store(s, c, i, j + 4, CpuGemmDot.Dot(x, y0 + 4 * ldb, p, s.K, r4));
        CpuGemmDot.Store(s, c, i, j + 5, CpuGemmDot.Dot(x, y0 + 5 * ldb, p, s.K, r5));
        CpuGemmDot.Store(s, c, i, j + 6, CpuGemmDot.Dot(x, y0 + 6 * ldb, p, s.K, r6));
        CpuGemmDot.Store(s, c, i, j + 7, CpuGemmDot.Dot(x, y0 + 7 * ldb, p, s.K, r7));
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Block2x4(in GemmSpec s, float* a, float* b, float* c, int i, int j)
    {
        float* x0 = a + (long)i * s.Lda, x1 = x0 + s.Lda;
        float* y0 = b + (long)j * s.Ldb, y1 = y0 + s.Ldb, y2 = y1 + s.Ldb, y3 = y2 + s.Ldb;
        Vector256<float> c00 = default, c01 = default, c02 = default, c03 = default;
        Vector256<float> c10 = default, c11 = default, c12 = default, c13 = default;
        int p = 0;
        for (; p + 8 <= s.K; p += 8)
        {
            var b0 = Vector256.Load(y0 + p); var b1 = Vector256.Load(y1 + p);
            var b2 = Vector256.Load(y2 + p); var b3 = Vector256.Load(y3 + p);
            var x = Vector256.Load(x0 + p);
            c00 = Vector256.FusedMultiplyAdd(x, b0, c00); c01 = Vector256.FusedMultiplyAdd(x, b1, c01);
            c02 = Vector256.FusedMultiplyAdd(x, b2, c02); c03 = Vector256.FusedMultiplyAdd(x, b3, c03);
            x = Vector256.Load(x1 + p);
            c10 = Vector256.FusedMultiplyAdd(x, b0, c10); c11 = Vector256.FusedMultiplyAdd(x, b1, c11);
            c12 = Vector256.FusedMultiplyAdd(x, b2, c12); c13 = Vector256.FusedMultiplyAdd(x, b3, c13);
        }
        // All sums first: a call with vectors live after the loop makes the JIT spill them inside it.
        float r00 = Vector256.Sum(c00), r01 = Vector256.Sum(c01), r02 = Vector256.Sum(c02), r03 = Vector256.Sum(c03);
        float r10 = Vector256.Sum(c10), r11 = Vector256.Sum(c11), r12 = Vector256.Sum(c12), r13 = Vector256.Sum(c13);
        CpuGemmDot.Store(s, c, i, j, CpuGemmDot.Dot(x0, y0, p, s.K, r00));
        CpuGemmDot.Store(s, c, i, j + 1, CpuGemmDot.Dot(x0, y1, p, s.K, r01));
        CpuGemmDot.Store(s, c, i, j + 2, CpuGemmDot.Dot(x0, y2, p, s.K, r02));
        CpuGemmDot.Store(s, c, i, j + 3, CpuGemmDot.Dot(x0, y3, p, s.K, r03));
        CpuGemmDot.Store(s, c, i + 1, j, CpuGemmDot.Dot(x1, y0, p, s.K, r10));
        CpuGemmDot.Store(s, c, i + 1, j + 1, CpuGemmDot.Dot(x1, y1, p, s.K, r11));
        CpuGemmDot.Store(s, c, i + 1, j + 2, CpuGemmDot.Dot(x1, y2, p, s.K, r12));
        CpuGemmDot.Store(s, c, i + 1, j + 3, CpuGemmDot.Dot(x1, y3, p, s.K, r13));
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void One(in GemmSpec s, float* a, float* b, float* c, int i, int j)
    {
        float* x = a + (long)i * s.Lda, y = b + (long)j * s.Ldb;
        var acc = Vector256<float>.Zero;
        int p = 0;
        for (; p + 8 <= s.K; p += 8) acc = Vector256.FusedMultiplyAdd(Vector256.Load(x + p), Vector256.Load(y + p), acc);
        CpuGemmDot.Store(s, c, i, j, CpuGemmDot.Dot(x, y, p, s.K, Vector256.Sum(acc)));
    }
}
