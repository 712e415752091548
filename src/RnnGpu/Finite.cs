using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace RnnGpu;

/// <summary>The finiteness check every input and target goes through, vectorised: it reads as much data as the pass it guards.</summary>
internal static class Finite
{
    /// <summary>The index of the first NaN or infinity in <paramref name="values"/>, or -1.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static int FirstNonFinite(ReadOnlySpan<float> values)
    {
        int i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            // v - v is 0 for every finite v and NaN for NaN and ±infinity.
            for (; i + 16 <= values.Length; i += 16)
            {
                var v = Vector512.Create(values.Slice(i, 16));
                if (!Vector512.EqualsAll(v - v, Vector512<float>.Zero)) break;
            }
        }
        else if (Vector256.IsHardwareAccelerated)
        {
            for (; i + 8 <= values.Length; i += 8)
            {
                var v = Vector256.Create(values.Slice(i, 8));
                if (!Vector256.EqualsAll(v - v, Vector256<float>.Zero)) break;
            }
        }
        for (; i < values.Length; i++)
            if (!float.IsFinite(values[i])) return i;
        return -1;
    }
}
