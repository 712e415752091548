using System.Runtime.InteropServices;

namespace RnnGpu.Accelerators.Cuda.Native;

/// <summary>
/// The NVRTC entry points the back end uses, with their exact C names. The library's file name changes
/// with the CUDA version (libnvrtc.so.13, .12, .11.2): <see cref="CudaLibraries"/> resolves the logical
/// name <see cref="CudaLibraries.Nvrtc"/> to whichever is installed. nvrtcProgram is an nint; the results
/// are nvrtcResult ints, checked by <see cref="CudaStatus.ThrowIfNvrtcFailed"/>.
/// nvrtcGetNumSupportedArchs and nvrtcGetSupportedArchs exist from NVRTC 11.2 on.
/// </summary>
internal static unsafe partial class NvrtcNative
{
    public const string Library = CudaLibraries.Nvrtc;

    static NvrtcNative() => CudaLibraries.EnsureResolver();

    [LibraryImport(Library)]
    internal static partial int nvrtcVersion(int* major, int* minor);

    [LibraryImport(Library)]
    internal static partial int nvrtcGetNumSupportedArchs(int* count);

    [LibraryImport(Library)]
    internal static partial int nvrtcGetSupportedArchs(int* archs);

    [LibraryImport(Library)]
    internal static partial int nvrtcCreateProgram(nint* program, byte* source, byte* name, int numHeaders, byte** headers, byte** includeNames);

    [LibraryImport(Library)]
    internal static partial int nvrtcCompileProgram(nint program, int numOptions, byte** options);

    [LibraryImport(Library)]
    internal static partial int nvrtcGetProgramLogSize(nint program, nuint* size);

    [LibraryImport(Library)]
    internal static partial int nvrtcGetProgramLog(nint program, byte* log);

    [LibraryImport(Library)]
    internal static partial int nvrtcGetCUBINSize(nint program, nuint* size);

    [LibraryImport(Library)]
    internal static partial int nvrtcGetCUBIN(nint program, byte* cubin);

    [LibraryImport(Library)]
    internal static partial int nvrtcGetPTXSize(nint program, nuint* size);

    [LibraryImport(Library)]
    internal static partial int nvrtcGetPTX(nint program, byte* ptx);

    [LibraryImport(Library)]
    internal static partial int nvrtcDestroyProgram(nint* program);

    [LibraryImport(Library)]
    internal static partial byte* nvrtcGetErrorString(int result);
}
