namespace RnnGpu.Accelerators;

/// <summary>
/// A float32 array owned by one accelerator. Kernels take <see cref="Slice"/>s of it, so a
/// time step or a parameter is addressed as (buffer, offset, length) without a copy.
/// </summary>
public abstract class DeviceBuffer : IDisposable
{
    protected DeviceBuffer(Accelerator owner, long length)
    {
        Owner = owner;
        Length = length;
    }

    public Accelerator Owner { get; }
    public long Length { get; }
    public bool IsDisposed { get; private set; }

    public Slice All => new(this, 0, Length);

    public Slice Slice(long offset, long length)
    {
        if (offset < 0 || length < 0 || offset + length > Length)
            throw new ShapeException($"slice [{offset}, {offset + length}) lies outside a buffer of {Length} floats");
        return new Slice(this, offset, length);
    }

    public void Dispose()
    {
        if (IsDisposed) return;
        IsDisposed = true;
        Release();
        GC.SuppressFinalize(this);
    }

    protected abstract void Release();
}

/// <summary>A contiguous window [Offset, Offset + Length) of a device buffer; made only through bounds-checked paths.</summary>
public readonly record struct Slice
{
    internal Slice(DeviceBuffer buffer, long offset, long length)
    {
        Buffer = buffer;
        Offset = offset;
        Length = length;
    }

    public DeviceBuffer Buffer { get; }
    public long Offset { get; }
    public long Length { get; }

    /// <summary>True when the two windows share an element of the same buffer.</summary>
    public bool Overlaps(Slice other) =>
        ReferenceEquals(Buffer, other.Buffer) && Offset < other.Offset + other.Length && other.Offset < Offset + Length;

    public Slice Sub(long offset, long length) => Buffer.Slice(Offset + offset, length);

    public static implicit operator Slice(DeviceBuffer buffer) => buffer.All;
}
