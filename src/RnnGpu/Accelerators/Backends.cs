using RnnGpu.Accelerators.Cpu;
using RnnGpu.Accelerators.OpenCL;

namespace RnnGpu.Accelerators;

/// <summary>A device a back end can run on, as `rnngpu devices` lists it.</summary>
public sealed record DeviceInfo(BackendKind Backend, int Index, string Name, long MemoryBytes);

/// <summary>
/// Finds and opens back ends by name: auto, cpu, opencl, cuda. Auto picks CUDA, then an OpenCL GPU,
/// then the CPU, falling through a back end that is not present with a one-line notice.
/// </summary>
public static class Backends
{
    public static readonly string[] Names = ["auto", "cpu", "opencl", "cuda"];

    /// <summary>
    /// Opens the named back end; <paramref name="notice"/> receives a line when auto falls back.
    /// <paramref name="device"/> is the index of a device of that back end as <see cref="ListDevices"/>
    /// numbers them (`--device N`); without one, OpenCL takes the first GPU, else the first device.
    /// With auto, a device index means that OpenCL device.
    /// </summary>
    public static Accelerator Open(string name, Action<string>? notice = null, int? device = null)
    {
        switch (name.ToLowerInvariant())
        {
            case "cpu":
                if (device is not null and not 0)
                    throw new BackendUnavailableException($"the cpu back end has one device, 0; device {device} does not exist");
                return new CpuAccelerator();
            case "opencl":
                return OpenCLAccelerator.Open(device);
            case "cuda":
                throw NotBuilt(BackendKind.Cuda);
            case "auto":
                return OpenAuto(notice, device);
            default:
                throw new BackendUnavailableException($"unknown backend '{name}': expected one of {string.Join(", ", Names)}");
        }
    }

    /// <summary>Every device of every back end present on this machine: the CPU first, then each OpenCL device.</summary>
    public static IReadOnlyList<DeviceInfo> ListDevices()
    {
        var cpu = new CpuAccelerator();
        long memory = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;
        var devices = new List<DeviceInfo> { new(BackendKind.Cpu, 0, cpu.DeviceName, memory) };
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

    private static Accelerator OpenAuto(Action<string>? notice, int? device)
    {
        if (device is not null) return OpenCLAccelerator.Open(device);
        string why;
        try
        {
            var gpu = OpenCLDevice.List().FirstOrDefault(d => d.IsGpu && d.Available);
            if (gpu is not null) return new OpenCLAccelerator(gpu, OpenCLCompiler.DefaultCacheDirectory());
            why = "no OpenCL GPU";
        }
        catch (RnnGpuException e)
        {
            why = e.Message;
        }
        notice?.Invoke($"auto: no CUDA back end in this build and {why}; using the CPU");
        return new CpuAccelerator();
    }

    private static BackendUnavailableException NotBuilt(BackendKind kind) =>
        new($"the {kind} back end is not available in this version of RnnGpu; use --backend cpu or --backend opencl");
}
