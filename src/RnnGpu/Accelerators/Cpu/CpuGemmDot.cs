using System.Runtime.CompilerServices;

namespace RnnGpu.Accelerators.Cpu;

/// <summary>
/// C = alpha A B^T + beta C for A [M, K] and B [N, K], both with rows contiguous along K and M small:
/// each output is a dot product of two rows, no packing. Kernels per instruction set in GemmDot512,
/// GemmDot256 and <see cref="Dot"/> here; every output of one set is summed in the same order whichever
/// block computes it. Large products split into column stripes of whole 8-column blocks, one per thread.
/// </summary>
internal sealed unsafe class CpuGemmDot : ITeamWork
{
    /// <summary>Up to this many rows the dot products beat packing B for the blocked kernel.</summary>
    public const int MaxRows = 4;
    private const int ColumnBlock = 8;

    [ThreadStatic] private static CpuGemmDot? _reused;

    private GemmSpec _s;
    private GemmIsa _isa;
    private float* _a, _b, _c;

    public static void Run(in GemmSpec s, GemmIsa isa, float* a, float* b, float* c, int threads)
    {
        var job = _reused ??= new CpuGemmDot();
        job._s = s;
        job._isa = isa;
        job._a = a;
        job._b = b;
        job._c = c;
        GemmThreading.Run(job, 2L * s.M * s.N * s.K, threads);
    }

    public void Run(int member, int members)
    {
        int blocks = (_s.N + ColumnBlock - 1) / ColumnBlock;
        int j0 = (int)((long)blocks * member / members) * ColumnBlock;
        int j1 = Math.Min((int)((long)blocks * (member + 1) / members) * ColumnBlock, _s.N);
        if (j0 < j1) Columns(_s, _isa, _a, _b, _c, j0, j1);
    }

    /// <summary>Columns [j0, j1) of the product (j0 a multiple of 8) on the calling thread, with the kernel set <paramref name="isa"/>.</summary>
    public static void Columns(in GemmSpec s, GemmIsa isa, float* a, float* b, float* c, int j0, int j1)
    {
        switch (isa)
        {
            case GemmIsa.Vector512: GemmDot512.Compute(s, a, b, c, j0, j1); break;
            case GemmIsa.Vector256: GemmDot256.Compute(s, a, b, c, j0, j1); break;
            default:
                for (int i = 0; i < s.M; i++)
                for (int j = j0; j < j1; j++)
                    Store(s, c, i, j, Dot(a + (long)i * s.Lda, b + (long)j * s.Ldb, 0, s.K, 0f));
                break;
        }
    }

    /// <summary>sum + x[p] y[p] for p in [p0, k), in order: the scalar tail of every kernel.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Dot(float* x, float* y, int p0, int k, float sum)
    {
        for (int p = p0; p < k; p++) sum = MathF.FusedMultiplyAdd(x[p], y[p], sum);
        return sum;
    }

    /// <summary>C[i, j] = alpha value + beta C[i, j], with the blocked kernels' rounding.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(in GemmSpec s, float* c, int i, int j, float value)
    {
        float* cij = c + (long)i * s.Ldc + j;
        *cij = MathF.FusedMultiplyAdd(s.Alpha, value, s.Beta == 0f ? 0f : s.Beta * *cij);
    }
}
