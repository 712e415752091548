using System.Runtime.Intrinsics;

namespace RnnGpu.Accelerators.Cpu;

/// <summary>
/// C += alpha A B^T for A [M, K] and B [N, K], both with rows contiguous along K: each output is a dot
/// product of two rows. Blocks of 2 rows x 4 columns keep 8 Vector256 accumulators (6 loads per 8 FMAs),
/// summed horizontally at the end. No packing, so it wins when M is small and B is large.
/// Column stripes run on separate threads for large products; each output is made by one thread.
/// </summary>
internal static unsafe class CpuGemmDot
{
    public const int MaxRows = 32;

    public static void Run(in GemmSpec s, float* a, float* b, float* c)
    {
        var (spec, pa, pb, pc) = (s, (nint)a, (nint)b, (nint)c);
        int colBlocks = (s.N + 3) / 4;
        int stripes = Math.Min(Environment.ProcessorCount, colBlocks);
        if (2L * s.M * s.N * s.K < CpuGemm.ParallelFlops || stripes < 2)
        {
            Compute(spec, a, b, c, 0, s.N);
            return;
        }
        Parallel.For(0, stripes, t =>
        {
            int j0 = (int)((long)colBlocks * t / stripes) * 4, j1 = Math.Min((int)((long)colBlocks * (t + 1) / stripes) * 4, spec.N);
            Compute(spec, (float*)pa, (float*)pb, (float*)pc, j0, j1);
        });
    }

    private static void Compute(in GemmSpec s, float* a, float* b, float* c, int j0, int j1)
    {
        int i = 0;
        for (; i + 2 <= s.M; i += 2)
        {
            int j = j0;
            for (; j + 4 <= j1; j += 4) Block2x4(s, a, b, c, i, j);
            for (; j < j1; j++)
            {
                Store(s, c, i, j, Dot(a + (long)i * s.Lda, b + (long)j * s.Ldb, s.K));
                Store(s, c, i + 1, j, Dot(a + (long)(i + 1) * s.Lda, b + (long)j * s.Ldb, s.K));
            }
        }
        for (; i < s.M; i++)
        for (int j = j0; j < j1; j++)
            Store(s, c, i, j, Dot(a + (long)i * s.Lda, b + (long)j * s.Ldb, s.K));
    }

    private static void Block2x4(in GemmSpec s, float* a, float* b, float* c, int i, int j)
    {
        float* a0 = a + (long)i * s.Lda, a1 = a0 + s.Lda;
        float* b0 = b + (long)j * s.Ldb, b1 = b0 + s.Ldb, b2 = b1 + s.Ldb, b3 = b2 + s.Ldb;
        Vector256<float> c00 = default, c01 = default, c02 = default, c03 = default;
        Vector256<float> c10 = default, c11 = default, c12 = default, c13 = default;
        int p = 0;
        for (; p + 8 <= s.K; p += 8)
        {
            var x0 = Vector256.Load(a0 + p);
            var x1 = Vector256.Load(a1 + p);
            var y0 = Vector256.Load(b0 + p);
            var y1 = Vector256.Load(b1 + p);
            var y2 = Vector256.Load(b2 + p);
            var y3 = Vector256.Load(b3 + p);
            c00 = Vector256.FusedMultiplyAdd(x0, y0, c00); c01 = Vector256.FusedMultiplyAdd(x0, y1, c01);
            c02 = Vector256.FusedMultiplyAdd(x0, y2, c02); c03 = Vector256.FusedMultiplyAdd(x0, y3, c03);
            c10 = Vector256.FusedMultiplyAdd(x1, y0, c10); c11 = Vector256.FusedMultiplyAdd(x1, y1, c11);
            c12 = Vector256.FusedMultiplyAdd(x1, y2, c12); c13 = Vector256.FusedMultiplyAdd(x1, y3, c13);
        }
        float r00 = Vector256.Sum(c00), r01 = Vector256.Sum(c01), r02 = Vector256.Sum(c02), r03 = Vector256.Sum(c03);
        float r10 = Vector256.Sum(c10), r11 = Vector256.Sum(c11), r12 = Vector256.Sum(c12), r13 = Vector256.Sum(c13);
        for (; p < s.K; p++)
        {
            float x0 = a0[p], x1 = a1[p];
            r00 += x0 * b0[p]; r01 += x0 * b1[p]; r02 += x0 * b2[p]; r03 += x0 * b3[p];
            r10 += x1 * b0[p]; r11 += x1 * b1[p]; r12 += x1 * b2[p]; r13 += x1 * b3[p];
        }
        Store(s, c, i, j, r00); Store(s, c, i, j + 1, r01); Store(s, c, i, j + 2, r02); Store(s, c, i, j + 3, r03);
        Store(s, c, i + 1, j, r10); Store(s, c, i + 1, j + 1, r11); Store(s, c, i + 1, j + 2, r12); Store(s, c, i + 1, j + 3, r13);
    }

    private static float Dot(float* x, float* y, int k)
    {
        var acc = Vector256<float>.Zero;
        int p = 0;
        for (; p + 8 <= k; p += 8) acc = Vector256.FusedMultiplyAdd(Vector256.Load(x + p), Vector256.Load(y + p), acc);
        float r = Vector256.Sum(acc);
        for (; p < k; p++) r += x[p] * y[p];
        return r;
    }

    private static void Store(in GemmSpec s, float* c, int i, int j, float value) => c[(long)i * s.Ldc + j] += s.Alpha * value;
}
