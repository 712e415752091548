using System.Numerics.Tensors;

namespace RnnGpu.Accelerators.Cpu;

/// <summary>
/// The forward activation over columns [c0, c0 + length) of a row, c0 a multiple of 32, in whole 32-column
/// chunks (a short last chunk through a zero-padded copy). TensorPrimitives takes narrower or scalar code for
/// short spans and their tails, so applied to spans as they come an element's tanh would depend on how the row
/// was split (team stripes) or on its flat position (batch size); here every element takes the same full-vector code.
/// </summary>
internal static unsafe class CpuActivation
{
    public const int Chunk = 32;

    public static void Forward(Activation act, float* x, int length)
    {
        float* pad = stackalloc float[Chunk];
        for (int j = 0; j < length; j += Chunk)
        {
            var part = new Span<float>(x + j, Math.Min(Chunk, length - j));
            if (part.Length == Chunk)
            {
                Apply(act, part);
                continue;
            }
            var padded = new Span<float>(pad, Chunk);
            padded.Clear();
            part.CopyTo(padded);
            Apply(act, padded);
            padded[..part.Length].CopyTo(part);
        }
    }

    private static void Apply(Activation act, Span<float> x)
    {
        if (act == Activation.Tanh) TensorPrimitives.Tanh(x, x);
        else TensorPrimitives.Max(x, 0f, x);
    }
}
