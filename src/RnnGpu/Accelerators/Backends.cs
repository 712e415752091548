using RnnGpu.Accelerators.Cpu;

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

    /// <summary>Opens the named back end; <paramref name="notice"/> receives a line when auto falls back.</summary>
    public static Accelerator Open(string name, Action<string>? notice = null)
    {
        switch (name.ToLowerInvariant())
        {
            case "cpu":
                return new CpuAccelerator();
            case "opencl":
                throw NotBuilt(BackendKind.OpenCL);
            case "cuda":
                throw NotBuilt(BackendKind.Cuda);
            case "auto":
                notice?.Invoke("auto: no CUDA or OpenCL back end in this build; using the CPU");
                return new CpuAccelerator();
            default:
                throw new BackendUnavailableException($"unknown backend '{name}': expected one of {string.Join(", ", Names)}");
        }
    }

    /// <summary>Every device of every back end present on this machine.</summary>
    public static IReadOnlyList<DeviceInfo> ListDevices()
    {
        var cpu = new CpuAccelerator();
        long memory = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;
        return [new DeviceInfo(BackendKind.Cpu, 0, cpu.DeviceName, memory)];
    }

    private static BackendUnavailableException NotBuilt(BackendKind kind) =>
        new($"the {kind} back end is not available in this version of RnnGpu; use --backend cpu");
}
