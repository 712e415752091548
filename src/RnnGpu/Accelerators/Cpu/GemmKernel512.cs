using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace RnnGpu.Accelerators.Cpu;

/// <summary>
/// 8 x 32 tile with Vector512: 16 accumulators (of 32 zmm), per step 2 loads of B and 8 broadcasts of A
/// feed 16 FMAs, enough independent chains to cover the FMA latency on Zen 4 and Intel alike.
/// </summary>
internal readonly unsafe struct GemmKernel512 : IGemmKernel
{
    public static int Mr => 8;
    public static int Nr => 32;

    public static int ShortMr => Mr;

    public static void RunShort(int kc, float* a, float* b, long bStride, float* c, long ldc, float alpha, float beta, float* bias) =>
        Run(kc, a, b, bStride, c, ldc, alpha, beta, bias);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run(int kc, float* a, float* b, long bStride, float* c, long ldc, float alpha, float beta, float* bias)
    {
        Vector512<float> c00 = default, c01 = default, c10 = default, c11 = default;
        Vector512<float> c20 = default, c21 = default, c30 = default, c31 = default;
        Vector512<float> c40 = default, c41 = default, c50 = default, c51 = default;
        Vector512<float> c60 = default, c61 = default, c70 = default, c71 = default;
        for (int p = 0; p < kc; p++, a += 8, b += bStride)
        {
            var b0 = Vector512.Load(b);
            var b1 = Vector512.Load(b + 16);
            var x = Vector512.Create(a[0]);
            c00 = Vector512.FusedMultiplyAdd(x, b0, c00); c01 = Vector512.FusedMultiplyAdd(x, b1, c01);
            x = Vector512.Create(a[1]);
            c10 = Vector512.FusedMultiplyAdd(x, b0, c10); c11 = Vector512.FusedMultiplyAdd(x, b1, c11);
            x = Vector512.Create(a[2]);
            c20 = Vector512.FusedMultiplyAdd(x, b0, c20); c21 = Vector512.FusedMultiplyAdd(x, b1, c21);
            x = Vector512.Create(a[3]);
            c30 = Vector512.FusedMultiplyAdd(x, b0, c30); c31 = Vector512.FusedMultiplyAdd(x, b1, c31);
            x = Vector512.Create(a[4]);
            c40 = Vector512.FusedMultiplyAdd(x, b0, c40); c41 = Vector512.FusedMultiplyAdd(x, b1, c41);
            x = Vector512.Create(a[5]);
            c50 = Vector512.FusedMultiplyAdd(x, b0, c50); c51 = Vector512.FusedMultiplyAdd(x, b1, c51);
            x = Vector512.Create(a[6]);
            c60 = Vector512.FusedMultiplyAdd(x, b0, c60); c61 = Vector512.FusedMultiplyAdd(x, b1, c61);
            x = Vector512.Create(a[7]);
            c70 = Vector512.FusedMultiplyAdd(x, b0, c70); c71 = Vector512.FusedMultiplyAdd(x, b1, c71);
        }
        var al = Vector512.Create(alpha);
        bool biased = bias is not null;
        Vector512<float> bias0 = biased ? Vector512.Load(bias) : default, bias1 = biased ? Vector512.Load(bias + 16) : default;
        Store(c, al, beta, biased, bias0, bias1, c00, c01); c += ldc;
        Store(c, al, beta, biased, bias0, bias1, c10, c11); c += ldc;
        Store(c, al, beta, biased, bias0, bias1, c20, c21); c += ldc;
        Store(c, al, beta, biased, bias0, bias1, c30, c31); c += ldc;
        Store(c, al, beta, biased, bias0, bias1, c40, c41); c += ldc;
        Store(c, al, beta, biased, bias0, bias1, c50, c51); c += ldc;
        Store(c, al, beta, biased, bias0, bias1, c60, c61); c += ldc;
        Store(c, al, beta, biased, bias0, bias1, c70, c71);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store(float* c, Vector512<float> alpha, float beta, bool biased, Vector512<float> bias0, Vector512<float> bias1,
        Vector512<float> lo, Vector512<float> hi)
    {
        if (beta == 0f)
        {
            lo *= alpha;
            hi *= alpha;
        }
        else
        {
            var bv = Vector512.Create(beta);
            lo = Vector512.FusedMultiplyAdd(alpha, lo, bv * Vector512.Load(c));
            hi = Vector512.FusedMultiplyAdd(alpha, hi, bv * Vector512.Load(c + 16));
        }
        if (biased)
        {
            lo += bias0;
            hi += bias1;
        }
        lo.Store(c);
        hi.Store(c + 16);
    }
}
