using RnnGpu.Accelerators.Cuda.Native;

namespace RnnGpu.Accelerators.Cuda;

/// <summary>
/// A CUDA driver or NVRTC call failed. The message names the call and the cuda.h (or nvrtc.h) name of
/// the status. A missing driver, device or NVRTC is a <see cref="BackendUnavailableException"/> instead.
/// </summary>
public class CudaException : RnnGpuException
{
    internal CudaException(int status, string statusName, string call, string message) : base(message)
    {
        Status = status;
        StatusName = statusName;
        Call = call;
    }

    /// <summary>The CUresult the call returned, or the nvrtcResult for an nvrtc* call.</summary>
    public int Status { get; }

    /// <summary>e.g. CUDA_ERROR_OUT_OF_MEMORY, NVRTC_ERROR_COMPILATION.</summary>
    public string StatusName { get; }

    /// <summary>The function that failed, e.g. cuLaunchKernel.</summary>
    public string Call { get; }

    /// <summary>A kernel faulted or the device stopped answering: the context is unusable for the rest of the process.</summary>
    public bool IsDeviceLost => !Call.StartsWith("nvrtc", StringComparison.Ordinal) && CudaStatus.IsDeviceLost(Status);

    internal static CudaException From(int status, string call)
    {
        string name = CudaStatus.Name(status);
        string what = $"{call} failed: {name} ({status})";
        if (CudaStatus.Description(status) is { Length: > 0 } description) what += $": {description}";
        if (CudaStatus.IsOutOfMemory(status))
            return new CudaOutOfMemoryException(status, name, call,
                $"{what}. The CUDA device is out of memory; free buffers or use a smaller batch. The accelerator stays usable.");
        if (CudaStatus.IsDeviceLost(status))
            return new CudaException(status, name, call,
                $"{what}. A kernel faulted or the device was lost; the CUDA context of this process is unusable from now on " +
                "(this error repeats on every call): restart the process.");
        return new CudaException(status, name, call, what);
    }
}

/// <summary>A device buffer could not be allocated: the device is out of memory.</summary>
public sealed class CudaOutOfMemoryException : CudaException
{
    internal CudaOutOfMemoryException(int status, string statusName, string call, string message) : base(status, statusName, call, message) { }
}

/// <summary>A kernel file failed to compile through NVRTC. The message holds the file, target, options and the full log.</summary>
public sealed class CudaCompileException : CudaException
{
    internal CudaCompileException(int status, string file, string target, string options, string log)
        : base(status, CudaStatus.NvrtcName(status), "nvrtcCompileProgram",
            $"nvrtcCompileProgram failed for kernels/{file} ({target}): {CudaStatus.NvrtcName(status)} ({status}); options: {options}\n" +
            $"--- NVRTC log ---\n{log.TrimEnd()}\n--- end of NVRTC log ---")
    {
        File = file;
        Target = target;
        Log = log;
    }

    /// <summary>The kernel file, e.g. gemm.cl.</summary>
    public string File { get; }

    /// <summary>What it was compiled for, e.g. sm_90 or compute_90.</summary>
    public string Target { get; }

    /// <summary>NVRTC's program log.</summary>
    public string Log { get; }
}
