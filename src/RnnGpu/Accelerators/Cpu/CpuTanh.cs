using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using RnnGpu.Kernels;

namespace RnnGpu.Accelerators.Cpu;

/// <summary>
/// tanh on whole vectors, inlined into the kernels that use it (the recurrence's epilogue, the activation pass), so
/// it runs as the caller's optimized code from the first call: a library call would start in the JIT's slow tier.
/// tanh|x| = m / (m + 2) with m = e^{2|x|} - 1, the sign of x put back. m = 2^n (e^r - 1) + (2^n - 1), r = 2|x| - n ln 2
/// in [-ln2/2, ln2/2], e^r - 1 = r + r² Q(r) with Q a degree-4 fit (relative error 3e-9), so m keeps its precision
/// near 0 and one formula serves every |x|, clamped at 10, past which tanh rounds to ±1. Within 3 ulp of the exact
/// value (CpuTanhTests); NaN stays NaN. About 20 vector operations: in the recurrence's epilogue the activation
/// costs a tenth of the step at batch 64. Both widths do the same operations in the same order.
/// </summary>
internal static class CpuTanh
{
    private const float Clamp = TanhFit.Clamp, Q2 = TanhFit.Q2, Q3 = TanhFit.Q3, Q4 = TanhFit.Q4, Q5 = TanhFit.Q5, Q6 = TanhFit.Q6,
        Log2E = TanhFit.Log2E, Ln2Hi = TanhFit.Ln2Hi, Ln2Lo = TanhFit.Ln2Lo;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Of(Vector512<float> x)
    {
        var y = Vector512.Min(Vector512.Abs(x), Vector512.Create(Clamp)) * Vector512.Create(2f);
        var n = Vector512.Round(y * Vector512.Create(Log2E));
        var r = Vector512.FusedMultiplyAdd(n, Vector512.Create(-Ln2Hi), y);
        r = Vector512.FusedMultiplyAdd(n, Vector512.Create(-Ln2Lo), r);
        var q = Vector512.FusedMultiplyAdd(r, Vector512.Create(Q6), Vector512.Create(Q5));
        q = Vector512.FusedMultiplyAdd(r, q, Vector512.Create(Q4));
        q = Vector512.FusedMultiplyAdd(r, q, Vector512.Create(Q3));
        q = Vector512.FusedMultiplyAdd(r, q, Vector512.Create(Q2));
        var em1r = Vector512.FusedMultiplyAdd(r * r, q, r);
        // 2^n for n in [0, 29], exactly (VSCALEFPS where there is AVX-512, the exponent field built otherwise).
        var s = Avx512F.IsSupported ? Avx512F.Scale(Vector512<float>.One, n) : ((Vector512.ConvertToInt32(n) + Vector512.Create(127)) << 23).AsSingle();
        var m = Vector512.FusedMultiplyAdd(s, em1r, s - Vector512<float>.One);
        // The sign of x, also for -0.
        return Vector512.CopySign(m / (m + Vector512.Create(2f)), x);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Of(Vector256<float> x)
    {
        var y = Vector256.Min(Vector256.Abs(x), Vector256.Create(Clamp)) * Vector256.Create(2f);
        var n = Vector256.Round(y * Vector256.Create(Log2E));
        var r = Vector256.FusedMultiplyAdd(n, Vector256.Create(-Ln2Hi), y);
        r = Vector256.FusedMultiplyAdd(n, Vector256.Create(-Ln2Lo), r);
        var q = Vector256.FusedMultiplyAdd(r, Vector256.Create(Q6), Vector256.Create(Q5));
        q = Vector256.FusedMultiplyAdd(r, q, Vector256.Create(Q4));
        q = Vector256.FusedMultiplyAdd(r, q, Vector256.Create(Q3));
        q = Vector256.FusedMultiplyAdd(r, q, Vector256.Create(Q2));
        var em1r = Vector256.FusedMultiplyAdd(r * r, q, r);
        var s = ((Vector256.ConvertToInt32(n) + Vector256.Create(127)) << 23).AsSingle();
        var m = Vector256.FusedMultiplyAdd(s, em1r, s - Vector256<float>.One);
        return Vector256.CopySign(m / (m + Vector256.Create(2f)), x);
    }
}
