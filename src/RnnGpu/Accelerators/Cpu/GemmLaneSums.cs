using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace RnnGpu.Accelerators.Cpu;

/// <summary>
/// The lane sums of 8 Vector512 at once, by transposing adds (about 3 instructions an output where
/// Vector512.Sum takes 25). Every vector's 16 lanes are added in the same tree whatever its slot, so
/// an output gets the same bits from any block that computes it. Needs AVX-512F (the only hardware
/// where Vector512 is accelerated).
/// </summary>
internal static class GemmLaneSums
{
    /// <summary>Where the sum of the vector in slot 0..7 lands in the result of <see cref="Of8"/>.</summary>
    public static int Lane(int slot) => slot < 4 ? 4 * slot : 4 * (slot - 4) + 1;

    /// <summary>The 8 lane sums, at <see cref="Lane"/>(slot); inlined, so no call keeps vectors live past a loop.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Of8(Vector512<float> c0, Vector512<float> c1, Vector512<float> c2, Vector512<float> c3,
        Vector512<float> c4, Vector512<float> c5, Vector512<float> c6, Vector512<float> c7)
    {
        // [ci lanes 0-7 + 8-15 | cj lanes 0-7 + 8-15]
        var u0 = Halves(c0, c1); var u1 = Halves(c2, c3); var u2 = Halves(c4, c5); var u3 = Halves(c6, c7);
        // 128-bit quarter q holds 4 partial sums of c(q) (w0) or c(4 + q) (w1).
        var w0 = Avx512F.Shuffle4x128(u0, u1, 0b10_00_10_00) + Avx512F.Shuffle4x128(u0, u1, 0b11_01_11_01);
        var w1 = Avx512F.Shuffle4x128(u2, u3, 0b10_00_10_00) + Avx512F.Shuffle4x128(u2, u3, 0b11_01_11_01);
        // Within each quarter: [w0 0+1, w0 2+3, w1 0+1, w1 2+3], then [w0 sum, w1 sum, ..].
        var z = Avx512F.Shuffle(w0, w1, 0b10_00_10_00) + Avx512F.Shuffle(w0, w1, 0b11_01_11_01);
        return Avx512F.Shuffle(z, z, 0b10_00_10_00) + Avx512F.Shuffle(z, z, 0b11_01_11_01);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Halves(Vector512<float> a, Vector512<float> b) =>
        Avx512F.Shuffle4x128(a, b, 0b01_00_01_00) + Avx512F.Shuffle4x128(a, b, 0b11_10_11_10);
}
