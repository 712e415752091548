using Microsoft.Win32.SafeHandles;

namespace RnnGpu.Accelerators.OpenCL.Native;

// One SafeHandle per released OpenCL object. Their finalizers only call clRelease*: the runtime
// keeps an object alive while commands that use it are queued, so a release never races a kernel.

internal sealed class OpenCLContextHandle() : SafeHandleZeroOrMinusOneIsInvalid(ownsHandle: true)
{
    protected override bool ReleaseHandle() => OpenCLNative.clReleaseContext(handle) == 0;
}

internal sealed class OpenCLQueueHandle() : SafeHandleZeroOrMinusOneIsInvalid(ownsHandle: true)
{
    protected override bool ReleaseHandle() => OpenCLNative.clReleaseCommandQueue(handle) == 0;
}

internal sealed class OpenCLProgramHandle() : SafeHandleZeroOrMinusOneIsInvalid(ownsHandle: true)
{
    protected override bool ReleaseHandle() => OpenCLNative.clReleaseProgram(handle) == 0;
}

internal sealed class OpenCLKernelHandle() : SafeHandleZeroOrMinusOneIsInvalid(ownsHandle: true)
{
    protected override bool ReleaseHandle() => OpenCLNative.clReleaseKernel(handle) == 0;
}

internal sealed class OpenCLMemHandle() : SafeHandleZeroOrMinusOneIsInvalid(ownsHandle: true)
{
    protected override bool ReleaseHandle() => OpenCLNative.clReleaseMemObject(handle) == 0;
}
