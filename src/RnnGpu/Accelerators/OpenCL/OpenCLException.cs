using RnnGpu.Accelerators.OpenCL.Native;

namespace RnnGpu.Accelerators.OpenCL;

/// <summary>An OpenCL call failed. The message names the call and the cl.h name of the status.</summary>
public class OpenCLException : RnnGpuException
{
    internal OpenCLException(int status, string call, string message) : base(message)
    {
        Status = status;
        Call = call;
    }

    /// <summary>The cl_int status the call returned.</summary>
    public int Status { get; }

    /// <summary>The OpenCL function that failed, e.g. clEnqueueNDRangeKernel.</summary>
    public string Call { get; }

    public string StatusName => OpenCLStatus.Name(Status);

    /// <summary>The device stopped answering or a kernel faulted: the accelerator must be disposed and a new one opened.</summary>
    public bool IsDeviceLost => OpenCLStatus.IsDeviceLost(Status);

    internal static OpenCLException From(int status, string call)
    {
        string what = $"{call} failed: {OpenCLStatus.Name(status)} ({status})";
        if (OpenCLStatus.IsOutOfMemory(status))
            return new OpenCLOutOfMemoryException(status, call,
                $"{what}. The OpenCL device is out of memory or resources (or, on some drivers, an earlier kernel failed); " +
                "free buffers or use a smaller batch. The accelerator stays usable.");
        if (OpenCLStatus.IsDeviceLost(status))
            return new OpenCLException(status, call,
                $"{what}. The OpenCL device was lost or a kernel faulted; dispose this accelerator and open a new one. " +
                "Other accelerators are not affected.");
        return new OpenCLException(status, call, what);
    }
}

/// <summary>A buffer could not be allocated, or a command ran out of device memory or resources.</summary>
public sealed class OpenCLOutOfMemoryException : OpenCLException
{
    internal OpenCLOutOfMemoryException(int status, string call, string message) : base(status, call, message) { }
}

/// <summary>A kernel file failed to compile. The message holds the file name and the full build log.</summary>
public sealed class OpenCLBuildException : OpenCLException
{
    internal OpenCLBuildException(int status, string file, string device, string options, string log)
        : base(status, "clBuildProgram",
            $"clBuildProgram failed for kernels/{file} on {device}: {OpenCLStatus.Name(status)} ({status}); options: {options}\n" +
            $"--- build log ---\n{log.TrimEnd()}\n--- end of build log ---")
    {
        File = file;
        BuildLog = log;
    }

    /// <summary>The kernel file, e.g. gemm.cl.</summary>
    public string File { get; }

    public string BuildLog { get; }
}
