using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace RnnGpu.Accelerators.Cpu;

/// <summary>
/// A pinned managed array, so kernels can take its address without a fixed block per call, its first element on a
/// 64-byte boundary: rows of 16k floats then start on cache lines, and no Vector512 load of one splits two lines.
/// </summary>
internal sealed unsafe class CpuBuffer : DeviceBuffer
{
    private const int AlignFloats = 16;

    private readonly float[] _array;

    public CpuBuffer(Accelerator owner, long length) : base(owner, length)
    {
        if (length > Array.MaxLength - AlignFloats)
            throw new ShapeException($"a CPU buffer holds at most {Array.MaxLength - AlignFloats} floats, {length} were asked for");
        _array = GC.AllocateArray<float>((int)length + AlignFloats, pinned: true);
        nint address = (nint)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_array));
        Start = (int)((64 - (address & 63)) & 63) / sizeof(float);
    }

    /// <summary>Where element 0 lies in the array.</summary>
    private int Start { get; }

    public Span<float> Span(long offset, long length) => _array.AsSpan(Start + (int)offset, (int)length);

    public float* Pointer(long offset) => (float*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_array)) + Start + offset;

    protected override void Release() { }
}

internal static unsafe class CpuSlice
{
    public static Span<float> Span(this Slice s) => ((CpuBuffer)s.Buffer).Span(s.Offset, s.Length);

    public static Span<float> Span(this Slice s, long length) => ((CpuBuffer)s.Buffer).Span(s.Offset, length);

    /// <summary>Address of the slice's first element; valid because CPU buffers are pinned.</summary>
    public static float* Pointer(this Slice s) => ((CpuBuffer)s.Buffer).Pointer(s.Offset);
}
