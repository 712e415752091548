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
            throw new ArgumentOutOfRangeException(nameof(offset), $"slice [{offset}, {offset + length}) outside buffer of {Length}");
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

/// <summary>A contiguous window [Offset, Offset + Length) of a device buffer.</summary>
public readonly record struct Slice(DeviceBuffer Buffer, long Offset, long Length)
{
    public Slice Sub(long offset, long length) => Buffer.Slice(Offset + offset, length);

    public static implicit operator Slice(DeviceBuffer buffer) => buffer.All;
}
