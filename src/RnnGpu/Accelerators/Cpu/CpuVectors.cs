using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace RnnGpu.Accelerators.Cpu;

/// <summary>
/// Element-wise passes over spans for the CPU kernels (memory-bound, so <see cref="Vector{T}"/> is wide enough).
/// They are the engine's own, compiled fully optimized on first call: TensorPrimitives' would start in the JIT's
/// unoptimized tier and, on a single core, stay there for seconds. Each destination may be the first operand itself.
/// </summary>
internal static class CpuVectors
{
    /// <summary>dst = x + y.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Add(ReadOnlySpan<float> x, ReadOnlySpan<float> y, Span<float> dst)
    {
        ReadOnlySpan<Vector<float>> vx = Cast(x), vy = Cast(y);
        var vd = Cast(dst);
        for (int i = 0; i < vd.Length; i++) vd[i] = vx[i] + vy[i];
        for (int i = vd.Length * Vector<float>.Count; i < dst.Length; i++) dst[i] = x[i] + y[i];
    }

    /// <summary>dst = x - y.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Subtract(ReadOnlySpan<float> x, ReadOnlySpan<float> y, Span<float> dst)
    {
        ReadOnlySpan<Vector<float>> vx = Cast(x), vy = Cast(y);
        var vd = Cast(dst);
        for (int i = 0; i < vd.Length; i++) vd[i] = vx[i] - vy[i];
        for (int i = vd.Length * Vector<float>.Count; i < dst.Length; i++) dst[i] = x[i] - y[i];
    }

    /// <summary>dst = x ⊙ y.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Multiply(ReadOnlySpan<float> x, ReadOnlySpan<float> y, Span<float> dst)
    {
        ReadOnlySpan<Vector<float>> vx = Cast(x), vy = Cast(y);
        var vd = Cast(dst);
        for (int i = 0; i < vd.Length; i++) vd[i] = vx[i] * vy[i];
        for (int i = vd.Length * Vector<float>.Count; i < dst.Length; i++) dst[i] = x[i] * y[i];
    }

    /// <summary>dst = alpha x.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Scale(ReadOnlySpan<float> x, float alpha, Span<float> dst)
    {
        var vx = Cast(x);
        var vd = Cast(dst);
        for (int i = 0; i < vd.Length; i++) vd[i] = vx[i] * alpha;
        for (int i = vd.Length * Vector<float>.Count; i < dst.Length; i++) dst[i] = x[i] * alpha;
    }

    /// <summary>The whole vectors of the first dst.Length elements (the callers' spans are at least that long).</summary>
    private static ReadOnlySpan<Vector<float>> Cast(ReadOnlySpan<float> x) => MemoryMarshal.Cast<float, Vector<float>>(x);

    private static Span<Vector<float>> Cast(Span<float> x) => MemoryMarshal.Cast<float, Vector<float>>(x);
}
