using ILGPU.Runtime;
using ILGPU.Runtime.Cuda;
using ILGPU.Runtime.OpenCL;

namespace RnnGpu.Accelerators.Ilgpu;

/// <summary>ILGPU's and the drivers' exceptions, mapped onto the engine's typed errors.</summary>
internal static class IlgpuErrors
{
    /// <summary>Whether an allocation failed for want of device memory (CUDA, OpenCL, or the host for the CPU accelerator).</summary>
    public static bool IsOutOfMemory(Exception e) => e switch
    {
        OutOfMemoryException => true,
        CudaException c => c.Error is "CUDA_ERROR_OUT_OF_MEMORY",
        // Not CL_INVALID_BUFFER_SIZE: a buffer past the device's largest allocation never fits, however much is freed.
        CLException c => c.Error is CLError.CL_MEM_OBJECT_ALLOCATION_FAILURE or CLError.CL_OUT_OF_RESOURCES or CLError.CL_OUT_OF_HOST_MEMORY,
        _ => false,
    };

    /// <summary>A failure of the device (ILGPU's or the driver's error) as the engine's <see cref="DeviceException"/>, naming the device.</summary>
    public static DeviceException Failure(string device, AcceleratorException e) => new($"{device}: {e.Message}", e);
}
