using System.Runtime.InteropServices;

namespace RnnGpu.Accelerators.Cuda.Native;

/// <summary>The one place where CUresult and nvrtcResult codes are checked, named, and turned into exceptions.</summary>
internal static unsafe class CudaStatus
{
    public const int CUDA_SUCCESS = 0;
    public const int CUDA_ERROR_INVALID_VALUE = 1;
    public const int CUDA_ERROR_OUT_OF_MEMORY = 2;
    public const int CUDA_ERROR_NOT_INITIALIZED = 3;
    public const int CUDA_ERROR_NO_DEVICE = 100;
    public const int CUDA_ERROR_INVALID_IMAGE = 200;
    public const int CUDA_ERROR_NO_BINARY_FOR_GPU = 209;
    public const int CUDA_ERROR_INVALID_PTX = 218;
    public const int CUDA_ERROR_UNSUPPORTED_PTX_VERSION = 222;
    public const int CUDA_ERROR_ILLEGAL_ADDRESS = 700;
    public const int CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES = 701;
    public const int CUDA_ERROR_LAUNCH_FAILED = 719;
    public const int CUDA_ERROR_COOPERATIVE_LAUNCH_TOO_LARGE = 720;

    public const int NVRTC_SUCCESS = 0;
    public const int NVRTC_ERROR_INVALID_OPTION = 5;
    public const int NVRTC_ERROR_COMPILATION = 6;

    /// <summary>Throws a <see cref="CudaException"/> naming <paramref name="call"/> unless <paramref name="result"/> is CUDA_SUCCESS.</summary>
    public static void ThrowIfFailed(int result, string call)
    {
        if (result != CUDA_SUCCESS) throw CudaException.From(result, call);
    }

    /// <summary>Throws a <see cref="CudaException"/> naming the NVRTC <paramref name="call"/> unless <paramref name="result"/> is NVRTC_SUCCESS.</summary>
    public static void ThrowIfNvrtcFailed(int result, string call)
    {
        if (result != NVRTC_SUCCESS)
            throw new CudaException(result, NvrtcName(result), call, $"{call} failed: {NvrtcName(result)} ({result})");
    }

    public static bool IsOutOfMemory(int result) => result == CUDA_ERROR_OUT_OF_MEMORY;

    /// <summary>Errors after which the context is unusable ("sticky"): a kernel faulted, or the device stopped answering.</summary>
    public static bool IsDeviceLost(int result) => result is CUDA_ERROR_ILLEGAL_ADDRESS or 702 or (>= 714 and <= 719) or 999;

    /// <summary>The cuda.h name of a CUresult, asked of the driver, or a name from this table when the driver cannot say.</summary>
    public static string Name(int result)
    {
        try
        {
            byte* name = null;
            if (CudaNative.cuGetErrorName(result, &name) == CUDA_SUCCESS && name != null)
                return Marshal.PtrToStringUTF8((nint)name) ?? Fallback(result);
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            // No driver to ask.
        }
        return Fallback(result);
    }

    /// <summary>The driver's one-line description of a CUresult, or null.</summary>
    public static string? Description(int result)
    {
        try
        {
            byte* text = null;
            if (CudaNative.cuGetErrorString(result, &text) == CUDA_SUCCESS && text != null)
                return Marshal.PtrToStringUTF8((nint)text);
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            // No driver to ask.
        }
        return null;
    }

    public static string NvrtcName(int result)
    {
        try
        {
            byte* name = NvrtcNative.nvrtcGetErrorString(result);
            if (name != null) return Marshal.PtrToStringUTF8((nint)name) ?? $"NVRTC error {result}";
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            // No NVRTC to ask.
        }
        return $"NVRTC error {result}";
    }

    private static string Fallback(int result) => result switch
    {
        0 => "CUDA_SUCCESS",
        1 => "CUDA_ERROR_INVALID_VALUE",
        2 => "CUDA_ERROR_OUT_OF_MEMORY",
        3 => "CUDA_ERROR_NOT_INITIALIZED",
        4 => "CUDA_ERROR_DEINITIALIZED",
        34 => "CUDA_ERROR_STUB_LIBRARY",
        46 => "CUDA_ERROR_DEVICE_UNAVAILABLE",
        100 => "CUDA_ERROR_NO_DEVICE",
        101 => "CUDA_ERROR_INVALID_DEVICE",
        200 => "CUDA_ERROR_INVALID_IMAGE",
        201 => "CUDA_ERROR_INVALID_CONTEXT",
        209 => "CUDA_ERROR_NO_BINARY_FOR_GPU",
        218 => "CUDA_ERROR_INVALID_PTX",
        222 => "CUDA_ERROR_UNSUPPORTED_PTX_VERSION",
        400 => "CUDA_ERROR_INVALID_HANDLE",
        500 => "CUDA_ERROR_NOT_FOUND",
        700 => "CUDA_ERROR_ILLEGAL_ADDRESS",
        701 => "CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES",
        702 => "CUDA_ERROR_LAUNCH_TIMEOUT",
        719 => "CUDA_ERROR_LAUNCH_FAILED",
        720 => "CUDA_ERROR_COOPERATIVE_LAUNCH_TOO_LARGE",
        803 => "CUDA_ERROR_SYSTEM_DRIVER_MISMATCH",
        804 => "CUDA_ERROR_COMPAT_NOT_SUPPORTED_ON_DEVICE",
        999 => "CUDA_ERROR_UNKNOWN",
        _ => $"CUresult {result}",
    };
}
