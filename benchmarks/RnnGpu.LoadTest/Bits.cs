using System.Runtime.InteropServices;

namespace RnnGpu.LoadTest;

/// <summary>An answer's output and final state as the hex of their float bits: one string, equal only when the bits are.</summary>
public static class Bits
{
    public static string Of(IReadOnlyList<float> output, IReadOnlyList<float> finalState) =>
        Convert.ToHexString(MemoryMarshal.AsBytes(output.ToArray().AsSpan())) + "/" + Convert.ToHexString(MemoryMarshal.AsBytes(finalState.ToArray().AsSpan()));
}
