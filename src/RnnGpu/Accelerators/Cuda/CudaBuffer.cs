using RnnGpu.Accelerators.Cuda.Native;

namespace RnnGpu.Accelerators.Cuda;

/// <summary>
/// Device memory of Length floats (at least one: cuMemAlloc refuses zero bytes). Slices reach kernels
/// as (pointer, offset in floats) argument pairs, as in the OpenCL back end, so the kernels are the same.
/// </summary>
internal sealed class CudaBuffer : DeviceBuffer
{
    private readonly CudaAccelerator _owner;

    public CudaBuffer(CudaAccelerator owner, long length, CudaMemoryHandle handle) : base(owner, length)
    {
        _owner = owner;
        Handle = handle;
    }

    public CudaMemoryHandle Handle { get; }

    /// <summary>The CUdeviceptr of element 0.</summary>
    public ulong Pointer => Handle.Pointer;

    /// <summary>Waits for the queued work (which may still use the memory), then frees it.</summary>
    protected override void Release()
    {
        _owner.WaitBeforeFree();
        Handle.Dispose();
    }
}
