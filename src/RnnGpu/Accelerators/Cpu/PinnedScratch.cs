namespace RnnGpu.Accelerators.Cpu;

/// <summary>
/// Working space kept for the life of its owner: a pinned array grown as needed, handed out aligned to a cache
/// line, so a kernel allocates nothing once it has run at a size. Each user keeps its own per thread.
/// </summary>
internal sealed unsafe class PinnedScratch
{
    private const int Align = 16;   // floats: 64 bytes

    private float[]? _space;

    /// <summary>At least <paramref name="floats"/> floats, valid until the next call on this object.</summary>
    public float* For(long floats)
    {
        if (_space is null || _space.Length < floats + Align)
            _space = GC.AllocateUninitializedArray<float>(checked((int)(floats + Align)), pinned: true);
        fixed (float* p = _space)
            return (float*)(((nint)p + 63) & ~(nint)63);
    }
}
