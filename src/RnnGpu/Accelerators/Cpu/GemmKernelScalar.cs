using System.Runtime.CompilerServices;

namespace RnnGpu.Accelerators.Cpu;

/// <summary>4 x 4 tile in scalar code, for CPUs without SIMD acceleration; same store rounding as the vector kernels.</summary>
internal readonly unsafe struct GemmKernelScalar : IGemmKernel
{
    private const int M = 4, N = 4;
    public static int Mr => M;
    public static int Nr => N;

    public static int ShortMr => Mr;

    public static void RunShort(int kc, float* a, float* b, long bStride, float* c, long ldc, float alpha, float beta, float* bias) =>
        Run(kc, a, b, bStride, c, ldc, alpha, beta, bias);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run(int kc, float* a, float* b, long bStride, float* c, long ldc, float alpha, float beta, float* bias)
    {
        float* acc = stackalloc float[M * N];
        for (int t = 0; t < M * N; t++) acc[t] = 0f;
        for (int p = 0; p < kc; p++, a += M, b += bStride)
        for (int r = 0; r < M; r++)
        for (int j = 0; j < N; j++)
            acc[r * N + j] = MathF.FusedMultiplyAdd(a[r], b[j], acc[r * N + j]);
        for (int r = 0; r < M; r++, c += ldc)
        for (int j = 0; j < N; j++)
        {
            float v = MathF.FusedMultiplyAdd(alpha, acc[r * N + j], beta == 0f ? 0f : beta * c[j]);
            c[j] = bias is null ? v : v + bias[j];
        }
    }
}
