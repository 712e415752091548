using RnnGpu.Accelerators.Cuda.Native;
using RnnGpu.Accelerators.OpenCL;
using static RnnGpu.Accelerators.Cuda.Native.CudaNative;
using static RnnGpu.Accelerators.Cuda.Native.CudaStatus;

namespace RnnGpu.Accelerators.Cuda;

/// <summary>
/// The CUDA back end: the device's primary context and one stream. Kernels and copies are queued on
/// the stream and run in order; only <see cref="Accelerator.CopyOut"/>, <see cref="Accelerator.SquaredNorm"/>
/// and <see cref="Synchronize"/> wait (and a copy in that fills the pinned staging buffer). The kernels are
/// the portable files of kernels/, compiled by NVRTC at first use (see <see cref="CudaCompiler"/>),
/// launched with the OpenCL back end's arguments and geometry (grid = global / local, block = local).
/// This file: device, buffers and copies; CudaAccelerator.Kernels.cs: the launches;
/// CudaAccelerator.Persistent.cs: the persistent recurrent kernel.
/// </summary>
public sealed unsafe partial class CudaAccelerator : Accelerator
{
    /// <summary>Threads per block of the 1-D kernels and the reductions (GROUP in the kernels).</summary>
    internal const int Group = 256;

    /// <summary>The GEMM tiling: 64 x 64 tiles, 4 x 4 outputs per thread, 256 threads per block.</summary>
    internal static readonly GemmTiling Tiling = new(64, 64, 16, 4, 4);

    /// <summary>The -D options every kernel file is compiled with (the target comes first, from the compiler).</summary>
    internal static IReadOnlyList<string> Defines { get; } = [$"-DGROUP={Group}", .. Tiling.Defines.Split(' ')];

    // The pinned staging buffer: copies in are queued from it without waiting, until it is full.
    private const long MinStagingFloats = 1 << 18, MaxStagingFloats = 1 << 24;

    private readonly CudaDevice _device;
    private readonly CudaContextHandle _context;
    private readonly CudaStreamHandle _stream;
    private readonly CudaKernels _kernels;
    /// <summary>At most this many blocks for the grid-stride kernels: enough to fill the device.</summary>
    private readonly long _maxGroups;
    private CudaHostMemoryHandle? _staging;
    /// <summary>Floats at the start of the staging buffer that queued copies in may still be reading.</summary>
    private long _stagingUsed;
    private bool _disposed;

    internal CudaAccelerator(CudaDevice device, string? cacheDirectory)
    {
        var nvrtc = NvrtcInfo.Load();
        var target = nvrtc.TargetFor(device.Architecture);
        _device = device;
        _context = CudaContextHandle.Retain(device.Handle);
        try
        {
            _context.MakeCurrent();
            _stream = CudaStreamHandle.Create(_context);
        }
        catch
        {
            _context.Dispose();
            throw;
        }
        _maxGroups = Math.Max(1, device.Multiprocessors) * 32L;
        Compiler = new CudaCompiler(nvrtc, target, Defines, cacheDirectory);
        _kernels = new CudaKernels(_context, Compiler);
    }

    /// <summary>
    /// Opens CUDA device <paramref name="index"/> (as listed by <see cref="Backends.ListDevices"/>), or device 0.
    /// Throws <see cref="BackendUnavailableException"/> without a driver, a device, or NVRTC.
    /// </summary>
    public static CudaAccelerator Open(int? index = null) =>
        new(CudaDevice.Select(index), CudaCompiler.DefaultCacheDirectory());

    public override BackendKind Kind => BackendKind.Cuda;

    public override string DeviceName => _device.Description;

    /// <summary>The driver's ordinal of the device.</summary>
    public int DeviceIndex => _device.Index;

    internal CudaCompiler Compiler { get; }

    internal CudaDevice Device => _device;

    private nint Stream => _stream.Value;

    protected override DeviceBuffer AllocateCore(long length)
    {
        _context.MakeCurrent();
        long bytes = Math.Max(length, 1) * sizeof(float);
        int result = CudaMemoryHandle.TryAllocate(_context, bytes, out var memory);
        if (result != CUDA_SUCCESS)
        {
            if (!IsOutOfMemory(result)) ThrowIfFailed(result, "cuMemAlloc_v2");
            nuint free = 0, total = 0;
            string room = cuMemGetInfo_v2(&free, &total) == CUDA_SUCCESS ? $" ({Gib(free)} of {Gib(total)} free)" : "";
            throw new CudaOutOfMemoryException(result, Name(result), "cuMemAlloc_v2",
                $"cuMemAlloc_v2 failed: {Name(result)} ({result}): out of memory allocating {length} floats ({Gib(bytes)}) on {_device.Description}{room}. " +
                "Free buffers or use a smaller batch; the accelerator stays usable.");
        }
        var buffer = new CudaBuffer(this, length, memory!);
        try
        {
            // Allocate promises zeros.
            ThrowIfFailed(cuMemsetD32Async(buffer.Pointer, 0, (nuint)Math.Max(length, 1), Stream), "cuMemsetD32Async");
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
        _context.MakeCurrent();
        long capacity = EnsureStaging(source.Length), done = 0;
        ulong target = Pointer(destination);
        while (done < source.Length)
        {
            if (_stagingUsed == capacity) Wait();
            int chunk = (int)Math.Min(source.Length - done, capacity - _stagingUsed);
            float* staged = _staging!.Floats + _stagingUsed;
            source.Slice((int)done, chunk).CopyTo(new Span<float>(staged, chunk));
            ThrowIfFailed(cuMemcpyHtoDAsync_v2(target + (ulong)(done * sizeof(float)), staged, Bytes(chunk), Stream), "cuMemcpyHtoDAsync_v2");
            _stagingUsed += chunk;
            done += chunk;
        }
    }

    protected override void CopyOutCore(Slice source, Span<float> destination)
    {
        if (destination.IsEmpty) return;
        _context.MakeCurrent();
        long capacity = EnsureStaging(destination.Length), done = 0;
        ulong from = Pointer(source);
        // The stream runs in order, so copies in still reading the staging buffer finish before this overwrites it.
        while (done < destination.Length)
        {
            int chunk = (int)Math.Min(destination.Length - done, capacity);
            ThrowIfFailed(cuMemcpyDtoHAsync_v2(_staging!.Floats, from + (ulong)(done * sizeof(float)), Bytes(chunk), Stream), "cuMemcpyDtoHAsync_v2");
            Wait();
            new ReadOnlySpan<float>(_staging.Floats, chunk).CopyTo(destination.Slice((int)done, chunk));
            done += chunk;
        }
    }

    protected override void CopyCore(Slice source, Slice destination) => CopyFloats(source, destination, destination.Length);

    protected override void FillCore(Slice destination, float value)
    {
        if (destination.Length == 0) return;
        _context.MakeCurrent();
        ThrowIfFailed(cuMemsetD32Async(Pointer(destination), BitConverter.SingleToUInt32Bits(value), (nuint)destination.Length, Stream), "cuMemsetD32Async");
    }

    public override void Synchronize()
    {
        _context.MakeCurrent();
        Wait();
    }

    public override void Dispose()
    {
        if (_disposed) return;
        try
        {
            _context.MakeCurrent();
            cuStreamSynchronize(Stream);   // best effort: a faulted context must not make Dispose throw
        }
        catch (CudaException)
        {
        }
        _disposed = true;
        _normPartials?.Dispose();
        _arrived?.Dispose();
        _kernels.Dispose();
        _staging?.Dispose();
        _stream.Dispose();
        // Buffers still alive hold the context: it is released when the last of them is.
        _context.Dispose();
    }

    /// <summary>Before a buffer is freed: the queued work may still use it.</summary>
    internal void WaitBeforeFree()
    {
        if (_disposed) return;
        try
        {
            _context.MakeCurrent();
            cuStreamSynchronize(Stream);
            _stagingUsed = 0;
        }
        catch (CudaException)
        {
            // Freeing must not throw; cuMemFree reports nothing useful about an earlier fault either.
        }
    }

    /// <summary>destination[0, count) = source[0, count) on the device (the contract keeps the two apart).</summary>
    private void CopyFloats(Slice source, Slice destination, long count)
    {
        if (count == 0) return;
        _context.MakeCurrent();
        ThrowIfFailed(cuMemcpyDtoDAsync_v2(Pointer(destination), Pointer(source), Bytes(count), Stream), "cuMemcpyDtoDAsync_v2");
    }

    /// <summary>Waits for everything queued; the staging buffer is then free.</summary>
    private void Wait()
    {
        ThrowIfFailed(cuStreamSynchronize(Stream), "cuStreamSynchronize");
        _stagingUsed = 0;
    }

    /// <summary>A staging buffer for a copy of <paramref name="floats"/> (in chunks beyond the largest); returns its capacity in floats.</summary>
    private long EnsureStaging(long floats)
    {
        long capacity = _staging is null ? 0 : _staging.Bytes / sizeof(float);
        long wanted = Math.Min(Math.Max(floats, MinStagingFloats), MaxStagingFloats);
        if (capacity >= wanted) return capacity;
        Wait();
        _staging?.Dispose();
        _staging = null;
        capacity = (long)System.Numerics.BitOperations.RoundUpToPowerOf2((ulong)wanted);
        _staging = CudaHostMemoryHandle.Allocate(_context, capacity * sizeof(float));
        return capacity;
    }

    private static ulong Pointer(Slice s) => ((CudaBuffer)s.Buffer).Pointer + (ulong)(s.Offset * sizeof(float));

    private static nuint Bytes(long floats) => (nuint)(floats * sizeof(float));

    private static string Gib(double bytes) => $"{bytes / (1L << 30):0.##} GiB";
}
