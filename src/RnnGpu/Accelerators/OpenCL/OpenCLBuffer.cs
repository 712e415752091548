using RnnGpu.Accelerators.OpenCL.Native;

namespace RnnGpu.Accelerators.OpenCL;

/// <summary>
/// A cl_mem of Length floats (at least one, as OpenCL has no empty buffers). Slices reach kernels as
/// (buffer, offset in floats) argument pairs rather than sub-buffers, whose offsets must be aligned.
/// </summary>
internal sealed class OpenCLBuffer : DeviceBuffer
{
    public OpenCLBuffer(Accelerator owner, long length, OpenCLMemHandle handle) : base(owner, length) => Handle = handle;

    public OpenCLMemHandle Handle { get; }

    /// <summary>Releasing is safe with commands in flight: OpenCL frees the memory once they finish.</summary>
    protected override void Release() => Handle.Dispose();
}
