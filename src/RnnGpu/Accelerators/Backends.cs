using RnnGpu.Accelerators.Cpu;
using RnnGpu.Accelerators.Cuda;
using RnnGpu.Accelerators.Ilgpu;
using RnnGpu.Accelerators.OpenCL;

namespace RnnGpu.Accelerators;

/// <summary>A device a back end can run on, as `rnngpu devices` lists it.</summary>
public sealed record DeviceInfo(BackendKind Backend, int Index, string Name, long MemoryBytes);

/// <summary>
/// Finds and opens back ends by name: auto, cpu, opencl, cuda, ilgpu-cpu (the ILGPU kernels on ILGPU's CPU accelerator). Auto picks CUDA, then an OpenCL GPU,
/// then the CPU, falling through a back end that is not present with a one-line notice.
/// </summary>
public static class Backends
{
    public static readonly string[] Names = ["auto", "cpu", "opencl", "cuda", "ilgpu-cpu"];

    /// <summary>
    /// Opens the named back end; <paramref name="notice"/> receives a line when auto falls back.
    /// <paramref name="device"/> is the index of a device of that back end as <see cref="ListDevices"/>
    /// numbers them (`--device N`); without one, CUDA takes device 0 and OpenCL the first GPU, else the
    /// first device. With auto, a device index means that CUDA device when CUDA is present, else that
    /// OpenCL device. <paramref name="threads"/> is the CPU back end's <see cref="CpuAccelerator.Threads"/> (default: the
    /// cores this process may use); it applies when the CPU back end is opened, by name or as auto's last resort.
    /// </summary>
    public static Accelerator Open(string name, Action<string>? notice = null, int? device = null, int? threads = null)
    {
        switch (name.ToLowerInvariant())
        {
            case "cpu":
                if (device is not null and not 0)
                    throw new BackendUnavailableException($"the cpu back end has one device, 0; device {device} does not exist");
                return new CpuAccelerator(threads);
            case "opencl":
                return OpenCLAccelerator.Open(device);
            case "cuda":
                return CudaAccelerator.Open(device);
            case "ilgpu-cpu":
                if (device is not null and not 0)
                    throw new BackendUnavailableException($"the ilgpu-cpu back end has one device, 0; device {device} does not exist");
                return IlgpuAccelerator.OpenCpu();
            case "auto":
                return OpenAuto(notice, device, threads);
            default:
                throw new BackendUnavailableException($"unknown backend '{name}': expected one of {string.Join(", ", Names)}");
        }
    }

    /// <summary>Every device of every back end present on this machine: the CPU first, ILGPU's CPU accelerator, then each CUDA device, then each OpenCL device.</summary>
    public static IReadOnlyList<DeviceInfo> ListDevices()
    {
        var cpu = new CpuAccelerator();
        long memory = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;
        var devices = new List<DeviceInfo> { new(BackendKind.Cpu, 0, cpu.DeviceName, memory), new(BackendKind.IlgpuCpu, 0, IlgpuAccelerator.CpuDeviceName, memory) };
        try
        {
            devices.AddRange(CudaDevice.List().Select(d => new DeviceInfo(BackendKind.Cuda, d.Index, d.Description, d.TotalMemory)));
        }
        catch (RnnGpuException)
        {
            // No NVIDIA driver or device: no CUDA devices to list.
        }
        try
        {
            devices.AddRange(OpenCLDevice.List().Select(d => new DeviceInfo(BackendKind.OpenCL, d.Index, d.Description, d.GlobalMemory)));
        }
        catch (RnnGpuException)
        {
            // No OpenCL on this machine (or a broken installation): it has no OpenCL devices to list.
        }
        return devices;
    }

    private static Accelerator OpenAuto(Action<string>? notice, int? device, int? threads)
    {
        string cuda;
        try
        {
            return CudaAccelerator.Open(device);
        }
        catch (RnnGpuException e) when (device is null || !HasCudaDevices())
        {
            // No driver, device or NVRTC (or a device that refuses a context): fall through to OpenCL.
            cuda = e.Message;
        }
        if (device is not null) return OpenCLAccelerator.Open(device);
        string why;
        try
        {
            var gpu = OpenCLDevice.List().FirstOrDefault(d => d.IsGpu && d.Available);
            if (gpu is not null)
            {
                var opencl = new OpenCLAccelerator(gpu, OpenCLCompiler.DefaultCacheDirectory());
                notice?.Invoke($"auto: {Reason(cuda)}; using OpenCL on {opencl.DeviceName}");
                return opencl;
            }
            why = "no OpenCL GPU";
        }
        catch (RnnGpuException e)
        {
            why = e.Message;
        }
        notice?.Invoke($"auto: {Reason(cuda)} and {why}; using the CPU");
        return new CpuAccelerator(threads);
    }

    private static bool HasCudaDevices()
    {
        try
        {
            return CudaDevice.List().Count > 0;
        }
        catch (RnnGpuException)
        {
            return false;
        }
    }

    /// <summary>Why CUDA is unavailable, as part of one line: the first sentence, without the advice to pick another back end.</summary>
    private static string Reason(string message)
    {
        string first = message.Split('\n')[0];
        int advice = first.IndexOf("; use --backend", StringComparison.Ordinal);
        return advice > 0 ? first[..advice] : first;
    }
}
