using ILGPU;
using ILGPU.Algorithms;

namespace RnnGpu.Kernels;

/// <summary>
/// Device functions the kernels share. tanh is computed here rather than with XMath.Tanh, which ILGPU maps to
/// tanh.approx.f32 on CUDA (relative error about 5e-4, too coarse to match PyTorch to 1e-4). The formula is the CPU
/// back end's (CpuTanh), one lane at a time: tanh|x| = m / (m + 2), m = e^{2|x|} - 1 = 2^n (e^r - 1) + (2^n - 1) with
/// r = 2|x| - n ln 2 in [-ln2/2, ln2/2] and e^r - 1 = r + r² Q(r), Q a degree-4 fit, so m keeps its precision near 0;
/// |x| is clamped at 10, past which tanh rounds to ±1. NaN stays NaN.
/// </summary>
public static class DeviceMath
{
    private const float Clamp = TanhFit.Clamp, Q2 = TanhFit.Q2, Q3 = TanhFit.Q3, Q4 = TanhFit.Q4, Q5 = TanhFit.Q5, Q6 = TanhFit.Q6,
        Log2E = TanhFit.Log2E, Ln2Hi = TanhFit.Ln2Hi, Ln2Lo = TanhFit.Ln2Lo;

    public static float Tanh(float x)
    {
        if (float.IsNaN(x)) return x;   // the clamp below would turn a NaN into 10
        float y = IntrinsicMath.Min(IntrinsicMath.Abs(x), Clamp) * 2f;
        float n = XMath.RoundToEven(y * Log2E);
        float r = y - n * Ln2Hi;
        r -= n * Ln2Lo;
        float q = r * Q6 + Q5;
        q = r * q + Q4;
        q = r * q + Q3;
        q = r * q + Q2;
        float em1r = r * r * q + r;
        // 2^n for n in [0, 29], exactly, from the exponent field.
        float s = Interop.IntAsFloat((uint)((int)n + 127) << 23);
        float m = s * em1r + (s - 1f);
        return IntrinsicMath.CopySign(m / (m + 2f), x);
    }

    /// <summary>σ(x) = (1 + tanh(x / 2)) / 2: the accurate tanh above, not an approximate exponential. Within 3e-8 of σ.</summary>
    public static float Sigmoid(float x) => 0.5f + 0.5f * Tanh(0.5f * x);

    /// <summary>The activation of a recurrent step or a GEMM epilogue; <see cref="Act"/> names the codes.</summary>
    public static float Activate(int act, float v) =>
        act == Act.Tanh ? Tanh(v) : act == Act.Relu ? (v < 0f ? 0f : v) : v;   // relu keeps a NaN, as the CPU does
}

/// <summary>
/// The constants of tanh|x| = m / (m + 2), m = e^{2|x|} - 1, shared by <see cref="DeviceMath.Tanh"/> and the CPU back
/// end's vector tanh so that both compute the same function: the clamp past which tanh rounds to ±1, the degree-4 fit
/// Q of (e^r - 1 - r) / r² on [-ln2/2, ln2/2] (relative error 3e-9), and ln 2 split in two for the reduction.
/// </summary>
public static class TanhFit
{
    public const float Clamp = 10f;
    public const float Q2 = 0.4999999403953552f, Q3 = 0.1666652113199234f, Q4 = 0.04166838899254799f,
        Q5 = 0.008368710987269878f, Q6 = 0.0013814604608342052f;
    public const float Log2E = 1.44269504088896341f, Ln2Hi = 0.693145751953125f, Ln2Lo = 1.428606765330187045e-06f;
}

/// <summary>Activation codes of the kernels' <c>act</c> arguments.</summary>
public static class Act
{
    public const int None = 0, Tanh = 1, Relu = 2;
}
