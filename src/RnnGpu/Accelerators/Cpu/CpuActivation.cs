using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace RnnGpu.Accelerators.Cpu;

/// <summary>
/// The forward activation over a span of a row, in whole 32-column chunks (a short last chunk through a
/// zero-padded copy), each chunk as two Vector512 or four Vector256 of <see cref="CpuTanh"/>: every element takes
/// the same full-vector code whatever its place, so an element's tanh does not depend on how the row was split
/// (team stripes) or on its flat position (batch size), and it is the code the fused recurrence runs.
/// </summary>
internal static unsafe class CpuActivation
{
    public const int Chunk = 32;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Forward(Activation act, float* x, int length)
    {
        int j = 0;
        for (; j + Chunk <= length; j += Chunk) Apply(act, x + j);
        if (j == length) return;
        float* pad = stackalloc float[Chunk];
        var padded = new Span<float>(pad, Chunk);
        var part = new Span<float>(x + j, length - j);
        padded.Clear();
        part.CopyTo(padded);
        Apply(act, pad);
        padded[..part.Length].CopyTo(part);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Apply(Activation act, float* x)
    {
        if (Vector512.IsHardwareAccelerated)
        {
            for (int i = 0; i < Chunk; i += Vector512<float>.Count)
            {
                var v = Vector512.Load(x + i);
                (act == Activation.Tanh ? CpuTanh.Of(v) : Vector512.Max(v, Vector512<float>.Zero)).Store(x + i);
            }
            return;
        }
        for (int i = 0; i < Chunk; i += Vector256<float>.Count)
        {
            var v = Vector256.Load(x + i);
            (act == Activation.Tanh ? CpuTanh.Of(v) : Vector256.Max(v, Vector256<float>.Zero)).Store(x + i);
        }
    }
}
