using System.Runtime.InteropServices;

namespace RnnGpu.Accelerators.Cuda.Native;

/// <summary>
/// The CUDA driver API entry points the back end uses, bound to libcuda.so.1 with their exact exported
/// C names: the _v2 names where cuda.h renames a function to them (cuMemAlloc is cuMemAlloc_v2, …).
/// No logic here: every CUresult goes through <see cref="CudaStatus.ThrowIfFailed"/> at the call site.
/// CUdevice is an int, CUdeviceptr a 64-bit ulong, CUcontext/CUstream/CUmodule/CUfunction nints,
/// size_t nuint. The library is found by <see cref="CudaLibraries"/>.
/// </summary>
internal static unsafe partial class CudaNative
{
    public const string Library = CudaLibraries.Driver;

    static CudaNative() => CudaLibraries.EnsureResolver();

    [LibraryImport(Library)]
    internal static partial int cuInit(uint flags);

    [LibraryImport(Library)]
    internal static partial int cuDriverGetVersion(int* driverVersion);

    [LibraryImport(Library)]
    internal static partial int cuDeviceGetCount(int* count);

    [LibraryImport(Library)]
    internal static partial int cuDeviceGet(int* device, int ordinal);

    [LibraryImport(Library)]
    internal static partial int cuDeviceGetName(byte* name, int length, int device);

    [LibraryImport(Library)]
    internal static partial int cuDeviceTotalMem_v2(nuint* bytes, int device);

    [LibraryImport(Library)]
    internal static partial int cuDeviceGetAttribute(int* value, int attribute, int device);

    [LibraryImport(Library)]
    internal static partial int cuDevicePrimaryCtxRetain(nint* context, int device);

    [LibraryImport(Library)]
    internal static partial int cuDevicePrimaryCtxRelease_v2(int device);

    [LibraryImport(Library)]
    internal static partial int cuCtxSetCurrent(nint context);

    [LibraryImport(Library)]
    internal static partial int cuCtxSynchronize();

    [LibraryImport(Library)]
    internal static partial int cuStreamCreate(nint* stream, uint flags);

    [LibraryImport(Library)]
    internal static partial int cuStreamSynchronize(nint stream);

    [LibraryImport(Library)]
    internal static partial int cuStreamDestroy_v2(nint stream);

    [LibraryImport(Library)]
    internal static partial int cuMemGetInfo_v2(nuint* free, nuint* total);

    [LibraryImport(Library)]
    internal static partial int cuMemAlloc_v2(ulong* pointer, nuint bytes);

    [LibraryImport(Library)]
    internal static partial int cuMemFree_v2(ulong pointer);

    [LibraryImport(Library)]
    internal static partial int cuMemAllocHost_v2(void** pointer, nuint bytes);

    [LibraryImport(Library)]
    internal static partial int cuMemFreeHost(void* pointer);

    [LibraryImport(Library)]
    internal static partial int cuMemcpyHtoDAsync_v2(ulong destination, void* source, nuint bytes, nint stream);

    [LibraryImport(Library)]
    internal static partial int cuMemcpyDtoHAsync_v2(void* destination, ulong source, nuint bytes, nint stream);

    [LibraryImport(Library)]
    internal static partial int cuMemcpyDtoDAsync_v2(ulong destination, ulong source, nuint bytes, nint stream);

    [LibraryImport(Library)]
    internal static partial int cuMemsetD32Async(ulong destination, uint value, nuint count, nint stream);

    [LibraryImport(Library)]
    internal static partial int cuModuleLoadData(nint* module, void* image);

    [LibraryImport(Library)]
    internal static partial int cuModuleUnload(nint module);

    [LibraryImport(Library)]
    internal static partial int cuModuleGetFunction(nint* function, nint module, byte* name);

    [LibraryImport(Library)]
    internal static partial int cuFuncSetAttribute(nint function, int attribute, int value);

    [LibraryImport(Library)]
    internal static partial int cuLaunchKernel(nint function, uint gridX, uint gridY, uint gridZ, uint blockX, uint blockY, uint blockZ,
        uint sharedMemBytes, nint stream, void** kernelParams, void** extra);

    [LibraryImport(Library)]
    internal static partial int cuLaunchCooperativeKernel(nint function, uint gridX, uint gridY, uint gridZ, uint blockX, uint blockY, uint blockZ,
        uint sharedMemBytes, nint stream, void** kernelParams);

    [LibraryImport(Library)]
    internal static partial int cuOccupancyMaxActiveBlocksPerMultiprocessor(int* numBlocks, nint function, int blockSize, nuint dynamicSharedMemBytes);

    [LibraryImport(Library)]
    internal static partial int cuGetErrorName(int error, byte** name);

    [LibraryImport(Library)]
    internal static partial int cuGetErrorString(int error, byte** description);
}
