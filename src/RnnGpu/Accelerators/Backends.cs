using RnnGpu.Accelerators.Cpu;
using RnnGpu.Accelerators.Ilgpu;

namespace RnnGpu.Accelerators;

/// <summary>A device a back end can run on, as `rnngpu devices` lists it.</summary>
public sealed record DeviceInfo(BackendKind Backend, int Index, string Name, long MemoryBytes);

/// <summary>
/// Finds and opens back ends by name: auto, cpu (the managed SIMD back end), and the ILGPU kernels on cuda, opencl
/// or ilgpu-cpu (ILGPU's CPU accelerator). Auto picks CUDA, then an OpenCL GPU that ILGPU can use, then the CPU,
/// falling through a back end that is not present (or fails to open) with a one-line notice.
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
                return IlgpuDevices.Open(BackendKind.OpenCL, device);
            case "cuda":
                return IlgpuDevices.Open(BackendKind.Cuda, device);
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
        devices.AddRange(IlgpuDevices.List(BackendKind.Cuda));
        devices.AddRange(IlgpuDevices.List(BackendKind.OpenCL));
        return devices;
    }

    private static Accelerator OpenAuto(Action<string>? notice, int? device, int? threads)
    {
        string cuda;
        try
        {
            return IlgpuDevices.Open(BackendKind.Cuda, device);
        }
        catch (RnnGpuException e) when (device is null || IlgpuDevices.List(BackendKind.Cuda).Count == 0)
        {
            // No driver or device, or a device that refuses a context or is out of memory: fall through to OpenCL.
            cuda = e.Message;
        }
        if (device is not null) return IlgpuDevices.Open(BackendKind.OpenCL, device);
        string why;
        try
        {
            var opencl = IlgpuDevices.Open(BackendKind.OpenCL, null, gpuOnly: true);
            notice?.Invoke($"auto: {Reason(cuda)}; using OpenCL on {opencl.DeviceName}");
            return opencl;
        }
        catch (RnnGpuException e)
        {
            why = Reason(e.Message);
        }
        notice?.Invoke($"auto: {Reason(cuda)} and {why}; using the CPU");
        return new CpuAccelerator(threads);
    }

    /// <summary>Why a back end is unavailable, as part of one line: the first sentence, without the advice to pick another back end.</summary>
    private static string Reason(string message)
    {
        string first = message.Split('\n')[0];
        int advice = first.IndexOf("; use --backend", StringComparison.Ordinal);
        return advice > 0 ? first[..advice] : first;
    }
}
