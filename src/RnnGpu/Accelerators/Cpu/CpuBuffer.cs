namespace RnnGpu.Accelerators.Cpu;

/// <summary>A pinned managed array, so kernels can take its address without a fixed block per call.</summary>
internal sealed class CpuBuffer : DeviceBuffer
{
    public CpuBuffer(Accelerator owner, long length) : base(owner, length)
    {
        if (length > Array.MaxLength)
            throw new ShapeException($"a CPU buffer holds at most {Array.MaxLength} floats, {length} were asked for");
        Data = GC.AllocateArray<float>((int)length, pinned: true);
    }

    public float[] Data { get; }

    protected override void Release() { }
}

internal static class CpuSlice
{
    public static Span<float> Span(this Slice s) => ((CpuBuffer)s.Buffer).Data.AsSpan((int)s.Offset, (int)s.Length);

    public static Span<float> Span(this Slice s, long length) => ((CpuBuffer)s.Buffer).Data.AsSpan((int)s.Offset, (int)length);

    /// <summary>Address of the slice's first element; valid because CPU buffers are pinned.</summary>
    public static unsafe float* Pointer(this Slice s) =>
        (float*)System.Runtime.CompilerServices.Unsafe.AsPointer(
            ref System.Runtime.InteropServices.MemoryMarshal.GetArrayDataReference(((CpuBuffer)s.Buffer).Data)) + s.Offset;
}
