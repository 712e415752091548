namespace RnnGpu.Accelerators.Cpu;

/// <summary>Per-thread packing space for the GEMM (<see cref="PinnedScratch"/>).</summary>
internal static unsafe class GemmScratch
{
    [ThreadStatic] private static PinnedScratch? _space;

    /// <summary>At least <paramref name="floats"/> floats, valid until this thread's next call.</summary>
    public static float* For(long floats) => (_space ??= new PinnedScratch()).For(floats);
}
