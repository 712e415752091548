using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace RnnGpu.Accelerators.Cpu;

/// <summary>The instruction sets the CPU GEMM has kernels for, widest last.</summary>
internal enum GemmIsa { Scalar, Vector256, Vector512 }

/// <summary>
/// Which GEMM kernels run: the widest the hardware accelerates. Tests narrow it on their own thread
/// (the choice is read once per call on the calling thread) to reach the paths this machine would not take.
/// </summary>
internal static class GemmIsaChoice
{
    public static readonly GemmIsa Best =
        Vector512.IsHardwareAccelerated && Avx512F.IsSupported ? GemmIsa.Vector512 : Vector256.IsHardwareAccelerated ? GemmIsa.Vector256 : GemmIsa.Scalar;

    [ThreadStatic] private static GemmIsa? _narrowed;

    /// <summary>Best, or the narrower set a test asked for on this thread.</summary>
    public static GemmIsa Current => _narrowed is { } n && n < Best ? n : Best;

    /// <summary>For tests: kernels no wider than <paramref name="isa"/> on this thread; null restores the best.</summary>
    internal static void NarrowForThisThread(GemmIsa? isa) => _narrowed = isa;
}
