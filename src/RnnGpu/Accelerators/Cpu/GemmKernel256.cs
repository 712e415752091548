using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace RnnGpu.Accelerators.Cpu;

/// <summary>
/// 6 x 16 tile with Vector256 (AVX2): 12 accumulators + 2 of B + 1 broadcast fit the 16 ymm registers;
/// per step 2 loads and 6 broadcasts feed 12 FMAs. Its short tile, 4 x 16 (8 accumulators, 2 loads and 4 broadcasts
/// for 8 FMAs), lets a caller cover rows in tiles of 6 and 4 with no padded rows where the count is even.
/// </summary>
internal readonly unsafe struct GemmKernel256 : IGemmKernel
{
    public static int Mr => 6;
    public static int Nr => 16;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run(int kc, float* a, float* b, long bStride, float* c, long ldc, float alpha, float beta, float* bias)
    {
        Vector256<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default;
        Vector256<float> c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default;
        for (int p = 0; p < kc; p++, a += 6, b += bStride)
        {
            var b0 = Vector256.Load(b);
            var b1 = Vector256.Load(b + 8);
            var x = Vector256.Create(a[0]);
            c00 = Vector256.FusedMultiplyAdd(x, b0, c00); c01 = Vector256.FusedMultiplyAdd(x, b1, c01);
            x = Vector256.Create(a[1]);
            c10 = Vector256.FusedMultiplyAdd(x, b0, c10); c11 = Vector256.FusedMultiplyAdd(x, b1, c11);
            x = Vector256.Create(a[2]);
            c20 = Vector256.FusedMultiplyAdd(x, b0, c20); c21 = Vector256.FusedMultiplyAdd(x, b1, c21);
            x = Vector256.Create(a[3]);
            c30 = Vector256.FusedMultiplyAdd(x, b0, c30); c31 = Vector256.FusedMultiplyAdd(x, b1, c31);
            x = Vector256.Create(a[4]);
            c40 = Vector256.FusedMultiplyAdd(x, b0, c40); c41 = Vector256.FusedMultiplyAdd(x, b1, c41);
            x = Vector256.Create(a[5]);
            c50 = Vector256.FusedMultiplyAdd(x, b0, c50); c51 = Vector256.FusedMultiplyAdd(x, b1, c51);
        }
        var al = Vector256.Create(alpha);
        Store(c, al, beta, bias, c00, c01); c += ldc;
        Store(c, al, beta, bias, c10, c11); c += ldc;
        Store(c, al, beta, bias, c20, c21); c += ldc;
        Store(c, al, beta, bias, c30, c31); c += ldc;
        Store(c, al, beta, bias, c40, c41); c += ldc;
        Store(c, al, beta, bias, c50, c51);
    }

    public static int ShortMr => 4;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void RunShort(int kc, float* a, float* b, long bStride, float* c, long ldc, float alpha, float beta, float* bias)
    {
        Vector256<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default, c30 = default, c31 = default;
        for (int p = 0; p < kc; p++, a += 6, b += bStride)
        {
            var b0 = Vector256.Load(b);
            var b1 = Vector256.Load(b + 8);
            var x = Vector256.Create(a[0]);
            c00 = Vector256.FusedMultiplyAdd(x, b0, c00); c01 = Vector256.FusedMultiplyAdd(x, b1, c01);
            x = Vector256.Create(a[1]);
            c10 = Vector256.FusedMultiplyAdd(x, b0, c10); c11 = Vector256.FusedMultiplyAdd(x, b1, c11);
            x = Vector256.Create(a[2]);
            c20 = Vector256.FusedMultiplyAdd(x, b0, c20); c21 = Vector256.FusedMultiplyAdd(x, b1, c21);
            x = Vector256.Create(a[3]);
            c30 = Vector256.FusedMultiplyAdd(x, b0, c30); c31 = Vector256.FusedMultiplyAdd(x, b1, c31);
        }
        var al = Vector256.Create(alpha);
        Store(c, al, beta, bias, c00, c01); c += ldc;
        Store(c, al, beta, bias, c10, c11); c += ldc;
        Store(c, al, beta, bias, c20, c21); c += ldc;
        Store(c, al, beta, bias, c30, c31);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store(float* c, Vector256<float> alpha, float beta, float* bias, Vector256<float> lo, Vector256<float> hi)
    {
        if (beta == 0f)
        {
            lo *= alpha;
            hi *= alpha;
        }
        else
        {
            var bv = Vector256.Create(beta);
            lo = Vector256.FusedMultiplyAdd(alpha, lo, bv * Vector256.Load(c));
            hi = Vector256.FusedMultiplyAdd(alpha, hi, bv * Vector256.Load(c + 8));
        }
        if (bias is not null)
        {
            lo += Vector256.Load(bias);
            hi += Vector256.Load(bias + 8);
        }
        lo.Store(c);
        hi.Store(c + 8);
    }
}
