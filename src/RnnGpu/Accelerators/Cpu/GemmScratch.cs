namespace RnnGpu.Accelerators.Cpu;

/// <summary>
/// Per-thread packing space for the GEMM: a pinned array kept for the life of the thread and grown as needed,
/// so a product allocates nothing once its threads have run one of that size. Aligned to a cache line.
/// </summary>
internal static unsafe class GemmScratch
{
    private const int Align = 16;   // floats: 64 bytes

    [ThreadStatic] private static float[]? _space;

    /// <summary>At least <paramref name="floats"/> floats, valid until this thread's next call.</summary>
    public static float* For(long floats)
    {
        if (_space is null || _space.Length < floats + Align)
            _space = GC.AllocateUninitializedArray<float>(checked((int)(floats + Align)), pinned: true);
        fixed (float* p = _space)
            return (float*)(((nint)p + 63) & ~(nint)63);
    }
}
