using Microsoft.Win32.SafeHandles;
using static RnnGpu.Accelerators.Cuda.Native.CudaNative;
using static RnnGpu.Accelerators.Cuda.Native.CudaStatus;

namespace RnnGpu.Accelerators.Cuda.Native;

// SafeHandles for what the back end creates. Every object lives in the device's primary context, and
// a driver call about it needs that context current on the calling thread: the finalizer thread too.
// So each handle holds a reference on the context handle (DangerousAddRef), makes the context current
// before freeing, and only then lets the context go: the primary context is released last, whatever
// order the finalizers run in.

/// <summary>A retained primary context of one device (cuDevicePrimaryCtxRetain / cuDevicePrimaryCtxRelease_v2).</summary>
internal sealed unsafe class CudaContextHandle : SafeHandleZeroOrMinusOneIsInvalid
{
    // Which context this thread made current, and in which epoch: a released primary context may come
    // back at the same address, so every release starts a new epoch and invalidates the cached answer.
    [ThreadStatic] private static nint t_current;
    [ThreadStatic] private static long t_epoch;
    private static long s_epoch = 1;

    private CudaContextHandle(int device) : base(ownsHandle: true) => Device = device;

    public int Device { get; }

    public static CudaContextHandle Retain(int device)
    {
        var handle = new CudaContextHandle(device);
        nint context = 0;
        ThrowIfFailed(cuDevicePrimaryCtxRetain(&context, device), "cuDevicePrimaryCtxRetain");
        handle.SetHandle(context);
        return handle;
    }

    /// <summary>Makes the context current on this thread (a no-op when it already is).</summary>
    public void MakeCurrent()
    {
        if (t_current == handle && t_epoch == Interlocked.Read(ref s_epoch)) return;
        ThrowIfFailed(cuCtxSetCurrent(handle), "cuCtxSetCurrent");
        t_current = handle;
        t_epoch = Interlocked.Read(ref s_epoch);
    }

    /// <summary>As <see cref="MakeCurrent"/>, for finalizers: false instead of an exception.</summary>
    public bool TryMakeCurrent()
    {
        if (t_current == handle && t_epoch == Interlocked.Read(ref s_epoch)) return true;
        if (cuCtxSetCurrent(handle) != CUDA_SUCCESS) return false;
        t_current = handle;
        t_epoch = Interlocked.Read(ref s_epoch);
        return true;
    }

    protected override bool ReleaseHandle()
    {
        Interlocked.Increment(ref s_epoch);
        return cuDevicePrimaryCtxRelease_v2(Device) == CUDA_SUCCESS;
    }
}

/// <summary>A handle whose object belongs to a context: it keeps the context alive and current while it frees.</summary>
internal abstract class CudaContextBoundHandle : SafeHandleZeroOrMinusOneIsInvalid
{
    private CudaContextHandle? _context;

    protected CudaContextBoundHandle() : base(ownsHandle: true) { }

    protected CudaContextHandle Context => _context!;

    /// <summary>Takes ownership of a created object: from now on it is freed, with its context current, when disposed or finalized.</summary>
    protected void Attach(CudaContextHandle context, nint value)
    {
        bool added = false;
        context.DangerousAddRef(ref added);
        _context = context;
        SetHandle(value);
    }

    protected sealed override bool ReleaseHandle()
    {
        var context = _context!;
        try
        {
            return context.TryMakeCurrent() && Free();
        }
        finally
        {
            context.DangerousRelease();
        }
    }

    /// <summary>Frees the object; the context is current.</summary>
    protected abstract bool Free();
}

/// <summary>A CUstream.</summary>
internal sealed unsafe class CudaStreamHandle : CudaContextBoundHandle
{
    public static CudaStreamHandle Create(CudaContextHandle context)
    {
        var stream = new CudaStreamHandle();
        context.MakeCurrent();
        nint s = 0;
        ThrowIfFailed(cuStreamCreate(&s, 0), "cuStreamCreate");
        stream.Attach(context, s);
        return stream;
    }

    public nint Value => handle;

    protected override bool Free() => cuStreamDestroy_v2(handle) == CUDA_SUCCESS;
}

/// <summary>A CUmodule loaded from a CUBIN or PTX image.</summary>
internal sealed unsafe class CudaModuleHandle : CudaContextBoundHandle
{
    /// <summary>Loads an image; returns the CUresult instead of throwing, so that a bad cached image can be rebuilt.</summary>
    public static int TryLoad(CudaContextHandle context, byte[] image, out CudaModuleHandle? module)
    {
        module = null;
        context.MakeCurrent();
        nint m = 0;
        int result;
        fixed (byte* p = image) result = cuModuleLoadData(&m, p);
        if (result != CUDA_SUCCESS) return result;
        module = new CudaModuleHandle();
        module.Attach(context, m);
        return result;
    }

    public nint Value => handle;

    protected override bool Free() => cuModuleUnload(handle) == CUDA_SUCCESS;
}

/// <summary>Device memory from cuMemAlloc_v2 (a CUdeviceptr).</summary>
internal sealed unsafe class CudaMemoryHandle : CudaContextBoundHandle
{
    /// <summary>Allocates <paramref name="bytes"/> (more than zero); returns the CUresult, so that the caller can word an out-of-memory.</summary>
    public static int TryAllocate(CudaContextHandle context, long bytes, out CudaMemoryHandle? memory)
    {
        memory = null;
        context.MakeCurrent();
        ulong pointer = 0;
        int result = cuMemAlloc_v2(&pointer, (nuint)bytes);
        if (result != CUDA_SUCCESS) return result;
        memory = new CudaMemoryHandle();
        memory.Attach(context, (nint)pointer);
        return result;
    }

    public ulong Pointer => (ulong)handle;

    protected override bool Free() => cuMemFree_v2((ulong)handle) == CUDA_SUCCESS;
}

/// <summary>Page-locked host memory from cuMemAllocHost_v2: the staging buffer of copies.</summary>
internal sealed unsafe class CudaHostMemoryHandle : CudaContextBoundHandle
{
    public static CudaHostMemoryHandle Allocate(CudaContextHandle context, long bytes)
    {
        var memory = new CudaHostMemoryHandle { Bytes = bytes };
        context.MakeCurrent();
        void* p = null;
        int result = cuMemAllocHost_v2(&p, (nuint)bytes);
        if (result != CUDA_SUCCESS)
        {
            memory.SetHandleAsInvalid();
            throw CudaException.From(result, "cuMemAllocHost_v2");
        }
        memory.Attach(context, (nint)p);
        return memory;
    }

    public long Bytes { get; private init; }

    public float* Floats => (float*)handle;

    protected override bool Free() => cuMemFreeHost((void*)handle) == CUDA_SUCCESS;
}
