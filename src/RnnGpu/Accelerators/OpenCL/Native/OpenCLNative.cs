using System.Runtime.InteropServices;

namespace RnnGpu.Accelerators.OpenCL.Native;

/// <summary>
/// The OpenCL 1.2 entry points the back end uses, bound to the ICD loader with their exact C names.
/// No logic here: every status goes through <see cref="OpenCLStatus.ThrowIfFailed"/> at the call site.
/// cl_platform_id and cl_device_id are plain nints (never released); the other objects are SafeHandles.
/// size_t is nuint, cl_uint uint, cl_bitfield ulong, cl_bool uint.
/// </summary>
internal static unsafe partial class OpenCLNative
{
    private const string Library = "libOpenCL.so.1";

    [LibraryImport(Library)]
    internal static partial int clGetPlatformIDs(uint numEntries, nint* platforms, uint* numPlatforms);

    [LibraryImport(Library)]
    internal static partial int clGetPlatformInfo(nint platform, uint paramName, nuint valueSize, void* value, nuint* valueSizeRet);

    [LibraryImport(Library)]
    internal static partial int clGetDeviceIDs(nint platform, ulong deviceType, uint numEntries, nint* devices, uint* numDevices);

    [LibraryImport(Library)]
    internal static partial int clGetDeviceInfo(nint device, uint paramName, nuint valueSize, void* value, nuint* valueSizeRet);

    [LibraryImport(Library)]
    internal static partial OpenCLContextHandle clCreateContext(nint* properties, uint numDevices, nint* devices, nint notify, nint userData, out int status);

    [LibraryImport(Library)]
    internal static partial int clReleaseContext(nint context);

    [LibraryImport(Library)]
    internal static partial OpenCLQueueHandle clCreateCommandQueue(OpenCLContextHandle context, nint device, ulong properties, out int status);

    [LibraryImport(Library)]
    internal static partial int clReleaseCommandQueue(nint queue);

    [LibraryImport(Library)]
    internal static partial int clFlush(OpenCLQueueHandle queue);

    [LibraryImport(Library)]
    internal static partial int clFinish(OpenCLQueueHandle queue);

    [LibraryImport(Library)]
    internal static partial OpenCLMemHandle clCreateBuffer(OpenCLContextHandle context, ulong flags, nuint size, void* hostPtr, out int status);

    [LibraryImport(Library)]
    internal static partial int clReleaseMemObject(nint memory);

    [LibraryImport(Library)]
    internal static partial int clEnqueueWriteBuffer(OpenCLQueueHandle queue, OpenCLMemHandle buffer, uint blocking, nuint offset, nuint size,
        void* source, uint numEvents, nint* waitList, nint* evt);

    [LibraryImport(Library)]
    internal static partial int clEnqueueReadBuffer(OpenCLQueueHandle queue, OpenCLMemHandle buffer, uint blocking, nuint offset, nuint size,
        void* destination, uint numEvents, nint* waitList, nint* evt);

    [LibraryImport(Library)]
    internal static partial int clEnqueueCopyBuffer(OpenCLQueueHandle queue, OpenCLMemHandle source, OpenCLMemHandle destination,
        nuint sourceOffset, nuint destinationOffset, nuint size, uint numEvents, nint* waitList, nint* evt);

    [LibraryImport(Library)]
    internal static partial int clEnqueueFillBuffer(OpenCLQueueHandle queue, OpenCLMemHandle buffer, void* pattern, nuint patternSize,
        nuint offset, nuint size, uint numEvents, nint* waitList, nint* evt);

    [LibraryImport(Library)]
    internal static partial OpenCLProgramHandle clCreateProgramWithSource(OpenCLContextHandle context, uint count, byte** strings, nuint* lengths, out int status);

    [LibraryImport(Library)]
    internal static partial OpenCLProgramHandle clCreateProgramWithBinary(OpenCLContextHandle context, uint numDevices, nint* devices, nuint* lengths,
        byte** binaries, int* binaryStatus, out int status);

    [LibraryImport(Library)]
    internal static partial int clBuildProgram(OpenCLProgramHandle program, uint numDevices, nint* devices, byte* options, nint notify, nint userData);

    [LibraryImport(Library)]
    internal static partial int clGetProgramBuildInfo(OpenCLProgramHandle program, nint device, uint paramName, nuint valueSize, void* value, nuint* valueSizeRet);

    [LibraryImport(Library)]
    internal static partial int clGetProgramInfo(OpenCLProgramHandle program, uint paramName, nuint valueSize, void* value, nuint* valueSizeRet);

    [LibraryImport(Library)]
    internal static partial int clReleaseProgram(nint program);

    [LibraryImport(Library)]
    internal static partial OpenCLKernelHandle clCreateKernel(OpenCLProgramHandle program, byte* name, out int status);

    [LibraryImport(Library)]
    internal static partial int clReleaseKernel(nint kernel);

    [LibraryImport(Library)]
    internal static partial int clGetKernelWorkGroupInfo(OpenCLKernelHandle kernel, nint device, uint paramName, nuint valueSize, void* value, nuint* valueSizeRet);

    [LibraryImport(Library)]
    internal static partial int clSetKernelArg(OpenCLKernelHandle kernel, uint index, nuint size, void* value);

    [LibraryImport(Library)]
    internal static partial int clEnqueueNDRangeKernel(OpenCLQueueHandle queue, OpenCLKernelHandle kernel, uint workDim, nuint* globalOffset,
        nuint* globalSize, nuint* localSize, uint numEvents, nint* waitList, nint* evt);
}
