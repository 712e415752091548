using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace RnnGpu.Accelerators.Cpu;

/// <summary>
/// tanh on whole vectors, inlined into the kernels that use it (the recurrence's epilogue, the activation pass), so
/// it runs as the caller's optimized code from the first call: a library call would start in the JIT's slow tier.
/// Below |x| = 0.625: x + x³ P(x²), P a degree-4 fit (relative error 4e-9 before rounding). Above: 1 - 2 / (e^{2|x|} + 1)
/// with the sign of x, e^y as 2^n e^r, r = y - n ln 2 in [-ln2/2, ln2/2] and e^r = 1 + r + r² Q(r), Q a degree-4 fit
/// (3e-9); |x| is clamped at 10, past which tanh rounds to ±1. Within 1.5 ulp of the exact value (CpuTanhTests); NaN stays NaN.
/// Both widths do the same operations in the same order.
/// </summary>
internal static class CpuTanh
{
    private const float SmallLimit = 0.625f, Clamp = 10f;
    private const float P1 = -0.3333328068256378f, P2 = 0.13331441581249237f, P3 = -0.05373971909284592f,
        P4 = 0.020639099180698395f, P5 = -0.005704998504370451f;
    private const float Q2 = 0.4999999403953552f, Q3 = 0.1666652113199234f, Q4 = 0.04166838899254799f,
        Q5 = 0.008368710987269878f, Q6 = 0.0013814604608342052f;
    private const float Log2E = 1.44269504088896341f, Ln2Hi = 0.693145751953125f, Ln2Lo = 1.428606765330187045e-06f;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Of(Vector512<float> x)
    {
        var ax = Vector512.Abs(x);
        var x2 = x * x;
        var p = Vector512.FusedMultiplyAdd(x2, Vector512.Create(P5), Vector512.Create(P4));
        p = Vector512.FusedMultiplyAdd(x2, p, Vector512.Create(P3));
        p = Vector512.FusedMultiplyAdd(x2, p, Vector512.Create(P2));
        p = Vector512.FusedMultiplyAdd(x2, p, Vector512.Create(P1));
        var small = Vector512.FusedMultiplyAdd(x * x2, p, x);

        var y = Vector512.Min(ax, Vector512.Create(Clamp)) * Vector512.Create(2f);
        var n = Vector512.Round(y * Vector512.Create(Log2E));
        var r = Vector512.FusedMultiplyAdd(n, Vector512.Create(-Ln2Hi), y);
        r = Vector512.FusedMultiplyAdd(n, Vector512.Create(-Ln2Lo), r);
        var q = Vector512.FusedMultiplyAdd(r, Vector512.Create(Q6), Vector512.Create(Q5));
        q = Vector512.FusedMultiplyAdd(r, q, Vector512.Create(Q4));
        q = Vector512.FusedMultiplyAdd(r, q, Vector512.Create(Q3));
        q = Vector512.FusedMultiplyAdd(r, q, Vector512.Create(Q2));
        var er = Vector512.FusedMultiplyAdd(r * r, q, r) + Vector512<float>.One;
        // 2^n for n in [0, 29]: the exponent field built directly.
        var scale = ((Vector512.ConvertToInt32(n) + Vector512.Create(127)) << 23).AsSingle();
        var large = Vector512<float>.One - Vector512.Create(2f) / Vector512.FusedMultiplyAdd(er, scale, Vector512<float>.One);
        // tanh is odd: the sign of x, also for -0, which the polynomial would turn into +0.
        return Vector512.CopySign(Vector512.ConditionalSelect(Vector512.LessThan(ax, Vector512.Create(SmallLimit)), small, large), x);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Of(Vector256<float> x)
    {
        var ax = Vector256.Abs(x);
        var x2 = x * x;
        var p = Vector256.FusedMultiplyAdd(x2, Vector256.Create(P5), Vector256.Create(P4));
        p = Vector256.FusedMultiplyAdd(x2, p, Vector256.Create(P3));
        p = Vector256.FusedMultiplyAdd(x2, p, Vector256.Create(P2));
        p = Vector256.FusedMultiplyAdd(x2, p, Vector256.Create(P1));
        var small = Vector256.FusedMultiplyAdd(x * x2, p, x);

        var y = Vector256.Min(ax, Vector256.Create(Clamp)) * Vector256.Create(2f);
        var n = Vector256.Round(y * Vector256.Create(Log2E));
        var r = Vector256.FusedMultiplyAdd(n, Vector256.Create(-Ln2Hi), y);
        r = Vector256.FusedMultiplyAdd(n, Vector256.Create(-Ln2Lo), r);
        var q = Vector256.FusedMultiplyAdd(r, Vector256.Create(Q6), Vector256.Create(Q5));
        q = Vector256.FusedMultiplyAdd(r, q, Vector256.Create(Q4));
        q = Vector256.FusedMultiplyAdd(r, q, Vector256.Create(Q3));
        q = Vector256.FusedMultiplyAdd(r, q, Vector256.Create(Q2));
        var er = Vector256.FusedMultiplyAdd(r * r, q, r) + Vector256<float>.One;
        var scale = ((Vector256.ConvertToInt32(n) + Vector256.Create(127)) << 23).AsSingle();
        var large = Vector256<float>.One - Vector256.Create(2f) / Vector256.FusedMultiplyAdd(er, scale, Vector256<float>.One);
        // tanh is odd: the sign of x, also for -0, which the polynomial would turn into +0.
        return Vector256.CopySign(Vector256.ConditionalSelect(Vector256.LessThan(ax, Vector256.Create(SmallLimit)), small, large), x);
    }
}
