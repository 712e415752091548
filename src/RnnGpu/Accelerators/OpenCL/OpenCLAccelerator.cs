using RnnGpu.Accelerators.OpenCL.Native;
using static RnnGpu.Accelerators.OpenCL.Native.OpenCLConstants;
using static RnnGpu.Accelerators.OpenCL.Native.OpenCLNative;
using static RnnGpu.Accelerators.OpenCL.Native.OpenCLStatus;

namespace RnnGpu.Accelerators.OpenCL;

/// <summary>
/// The OpenCL back end: one context and one in-order queue on one device. Kernels are queued and
/// run asynchronously in order; only <see cref="Accelerator.CopyOut"/>, <see cref="Accelerator.SquaredNorm"/>
/// and <see cref="Synchronize"/> wait. Kernel files are built at first use (see <see cref="OpenCLCompiler"/>).
/// This file: device, buffers and copies; OpenCLAccelerator.Kernels.cs: the launches.
/// </summary>
public sealed unsafe partial class OpenCLAccelerator : Accelerator
{
    private readonly OpenCLDevice _device;
    private readonly OpenCLContextHandle _context;
    private readonly OpenCLQueueHandle _queue;
    private readonly OpenCLKernels _kernels;
    private readonly GemmTiling _tiling;
    /// <summary>Work items per group of the 1-D kernels and the reductions: a power of two, 16 to 256.</summary>
    private readonly int _group;
    /// <summary>At most this many groups for the grid-stride kernels: enough to fill the device.</summary>
    private readonly long _maxGroups;
    private bool _disposed;

    internal OpenCLAccelerator(OpenCLDevice device, string? cacheDirectory)
    {
        if (!device.Available)
            throw new BackendUnavailableException($"OpenCL device {device.Index} ({device.Description}) is not available");
        _device = device;
        nint* properties = stackalloc nint[] { CL_CONTEXT_PLATFORM, device.Platform, 0 };
        nint id = device.Id;
        _context = clCreateContext(properties, 1, &id, 0, 0, out int status);
        ThrowIfFailed(status, "clCreateContext");
        _queue = clCreateCommandQueue(_context, device.Id, 0, out status);
        if (status != CL_SUCCESS)
        {
            _context.Dispose();
            ThrowIfFailed(status, "clCreateCommandQueue");
        }
        _group = 16;
        while (_group < 256 && _group * 2 <= device.MaxWorkGroupSize) _group *= 2;
        _maxGroups = Math.Max(1, device.ComputeUnits) * 32L;
        _tiling = GemmTiling.For(device);
        Compiler = new OpenCLCompiler(_context, device, $"-cl-std=CL1.2 -DGROUP={_group} {_tiling.Defines}{(device.HasFp64 ? " -DHAVE_FP64" : "")}", cacheDirectory);
        _kernels = new OpenCLKernels(Compiler);
    }

    /// <summary>Opens OpenCL device <paramref name="index"/> (as listed by <see cref="Backends.ListDevices"/>), or the first GPU, else the first device.</summary>
    public static OpenCLAccelerator Open(int? index = null) =>
        new(OpenCLDevice.Select(index), OpenCLCompiler.DefaultCacheDirectory());

    public override BackendKind Kind => BackendKind.OpenCL;

    public override string DeviceName => _device.Description;

    /// <summary>Index of the device among all OpenCL devices of this machine.</summary>
    public int DeviceIndex => _device.Index;

    internal OpenCLCompiler Compiler { get; }

    internal OpenCLDevice Device => _device;

    protected override DeviceBuffer AllocateCore(long length)
    {
        if (length > _device.MaxAllocation / sizeof(float))
            throw new OpenCLOutOfMemoryException(CL_INVALID_BUFFER_SIZE, "clCreateBuffer",
                $"cannot allocate {length} floats ({Gib(length * (double)sizeof(float))}) on {_device.Description}: one OpenCL buffer holds at most " +
                $"{Gib(_device.MaxAllocation)} on this device ({Gib(_device.GlobalMemory)} of memory in all). The accelerator stays usable.");
        long bytes = Math.Max(length, 1) * sizeof(float);
        var handle = clCreateBuffer(_context, CL_MEM_READ_WRITE, (nuint)bytes, null, out int status);
        if (status != CL_SUCCESS)
        {
            handle.Dispose();
            if (IsOutOfMemory(status))
                throw new OpenCLOutOfMemoryException(status, "clCreateBuffer",
                    $"clCreateBuffer failed: {Name(status)} ({status}): out of memory allocating {length} floats ({Gib(bytes)}) on {_device.Description}. " +
                    "The accelerator stays usable.");
            ThrowIfFailed(status, "clCreateBuffer");
        }
        var buffer = new OpenCLBuffer(this, length, handle);
        try
        {
            // Allocate promises zeros. Many drivers allocate lazily, so an out-of-memory can surface here.
            FillBytes(buffer, 0, bytes, 0f);
        }
        catch
        {
            buffer.Dispose();
            throw;
        }
        return buffer;
    }

    protected override void CopyInCore(ReadOnlySpan<float> source, Slice destination)
    {
        if (source.IsEmpty) return;
        fixed (float* p = source)
            ThrowIfFailed(clEnqueueWriteBuffer(_queue, Mem(destination), 1, Bytes(destination.Offset), Bytes(source.Length), p, 0, null, null),
                "clEnqueueWriteBuffer");
    }

    protected override void CopyOutCore(Slice source, Span<float> destination)
    {
        if (destination.IsEmpty) return;
        fixed (float* p = destination)
            ThrowIfFailed(clEnqueueReadBuffer(_queue, Mem(source), 1, Bytes(source.Offset), Bytes(destination.Length), p, 0, null, null),
                "clEnqueueReadBuffer");
    }

    protected override void CopyCore(Slice source, Slice destination) => CopyFloats(source, destination, destination.Length);

    protected override void FillCore(Slice destination, float value) =>
        FillBytes((OpenCLBuffer)destination.Buffer, destination.Offset * sizeof(float), destination.Length * sizeof(float), value);

    public override void Synchronize() => ThrowIfFailed(clFinish(_queue), "clFinish");

    public override void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        clFinish(_queue);   // best effort: a lost device must not make Dispose throw
        _normPartials?.Dispose();
        _kernels.Dispose();
        _queue.Dispose();
        _context.Dispose();
    }

    /// <summary>destination[0, count) = source[0, count) on the device (the contract keeps the two apart).</summary>
    private void CopyFloats(Slice source, Slice destination, long count)
    {
        if (count == 0) return;
        ThrowIfFailed(clEnqueueCopyBuffer(_queue, Mem(source), Mem(destination), Bytes(source.Offset), Bytes(destination.Offset), Bytes(count), 0, null, null),
            "clEnqueueCopyBuffer");
    }

    private void FillBytes(OpenCLBuffer buffer, long offset, long bytes, float value)
    {
        if (bytes == 0) return;
        ThrowIfFailed(clEnqueueFillBuffer(_queue, buffer.Handle, &value, sizeof(float), (nuint)offset, (nuint)bytes, 0, null, null), "clEnqueueFillBuffer");
    }

    private static OpenCLMemHandle Mem(Slice s) => ((OpenCLBuffer)s.Buffer).Handle;

    private static nuint Bytes(long floats) => (nuint)(floats * sizeof(float));

    private static string Gib(double bytes) => $"{bytes / (1L << 30):0.##} GiB";
}
