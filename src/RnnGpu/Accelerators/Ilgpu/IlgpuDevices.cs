using System.Runtime.InteropServices;
using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.Cuda;
using ILGPU.Runtime.OpenCL;

namespace RnnGpu.Accelerators.Ilgpu;

/// <summary>
/// The GPU devices ILGPU can run the kernels on: every CUDA device whose architecture ILGPU's PTX back end knows, and
/// every OpenCL device with OpenCL C 2.0, or 3.0 with the generic address space (ILGPU's own test of an OpenCL device:
/// Intel and AMD GPUs; not PoCL 3.1, not NVIDIA's OpenCL). Indices number these devices, as `rnngpu devices` lists them.
/// </summary>
internal static class IlgpuDevices
{
    /// <summary>
    /// One ILGPU context per GPU kind for the process, shared by every listing and accelerator of that kind: it holds
    /// the compiled kernels, and under WSL ILGPU registers a native-library resolver each time a CUDA context is
    /// made, which .NET allows only once.
    /// </summary>
    private static readonly Lazy<Context> CudaContext = new(() => CreateContext(BackendKind.Cuda, supportedOnly: true));
    private static readonly Lazy<Context> OpenCLContext = new(() => CreateContext(BackendKind.OpenCL, supportedOnly: true));

    private static Context Shared(BackendKind kind) => kind == BackendKind.Cuda ? CudaContext.Value : OpenCLContext.Value;

    /// <summary>The devices of one kind, with ILGPU's description of each.</summary>
    public static IReadOnlyList<DeviceInfo> List(BackendKind kind) =>
        Devices(Shared(kind), kind).Select((d, i) => new DeviceInfo(kind, i, Describe(d), d.MemorySize)).ToList();

    /// <summary>
    /// Opens device <paramref name="index"/> of the kind; without one, CUDA's first device, or OpenCL's first GPU,
    /// else its first device. No driver, no usable device or no such index: <see cref="BackendUnavailableException"/>.
    /// </summary>
    public static IlgpuAccelerator Open(BackendKind kind, int? index, bool gpuOnly = false)
    {
        var context = Shared(kind);
        var devices = Devices(context, kind);
        if (devices.Count == 0) throw new BackendUnavailableException(WhyNone(kind));
        Device device;
        if (index is int i)
        {
            if (i < 0 || i >= devices.Count)
                throw new BackendUnavailableException(
                    $"{Label(kind)} device {i} does not exist: this machine has {devices.Count} ({string.Join("; ", devices.Select((d, j) => $"{j}: {Describe(d)}"))})");
            device = devices[i];
        }
        else
        {
            device = devices.FirstOrDefault(IsGpu) ?? (gpuOnly ? throw new BackendUnavailableException($"no {Label(kind)} GPU") : devices[0]);
        }
        return IlgpuAccelerator.Create(context, ownsContext: false, device, kind, devices.IndexOf(device), Describe(device));
    }

    private static Context CreateContext(BackendKind kind, bool supportedOnly)
    {
        IlgpuNativeLibraries.EnsureRegistered();
        return kind switch
        {
            BackendKind.Cuda => Context.Create(b => b.Cuda().EnableAlgorithms()),
            BackendKind.OpenCL when supportedOnly => Context.Create(b => b.OpenCL().EnableAlgorithms()),
            BackendKind.OpenCL => Context.Create(b => b.OpenCL(_ => true)),
            _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "not a GPU back end of ILGPU"),
        };
    }

    private static List<Device> Devices(Context context, BackendKind kind)
    {
        var type = kind == BackendKind.Cuda ? AcceleratorType.Cuda : AcceleratorType.OpenCL;
        return context.Devices.Where(d => d.AcceleratorType == type).ToList();
    }

    private static bool IsGpu(Device d) => d is CudaDevice || (d is CLDevice c && c.DeviceType.HasFlag(CLDeviceType.CL_DEVICE_TYPE_GPU));

    private static string Label(BackendKind kind) => kind == BackendKind.Cuda ? "CUDA" : "OpenCL";

    private static string Describe(Device d) => d switch
    {
        CudaDevice c => $"{c.Name} (CUDA, {c.Architecture})",
        CLDevice c => $"{c.Name} ({c.PlatformName}, {TypeName(c.DeviceType)}, OpenCL C {c.CLStdVersion})",
        _ => d.Name,
    };

    private static string TypeName(CLDeviceType type) => type switch
    {
        CLDeviceType.CL_DEVICE_TYPE_GPU => "GPU",
        CLDeviceType.CL_DEVICE_TYPE_CPU => "CPU",
        CLDeviceType.CL_DEVICE_TYPE_ACCELERATOR => "accelerator",
        _ => "other",
    };

    /// <summary>Why the kind has no device here, for the error: the driver's library is missing, or what it shows ILGPU cannot use.</summary>
    private static string WhyNone(BackendKind kind)
    {
        const string advice = "; use --backend cpu (or ilgpu-cpu)";
        if (kind == BackendKind.Cuda)
            return HasLibrary("libcuda.so.1")
                ? "CUDA: the NVIDIA driver shows no device that ILGPU supports" + advice
                : "CUDA: no NVIDIA driver (libcuda.so.1 was not found)" + advice;
        if (!HasLibrary("libOpenCL.so.1"))
            return "OpenCL is not installed: libOpenCL.so.1 was not found (install an ICD loader and a GPU driver)" + advice;
        using var all = CreateContext(BackendKind.OpenCL, supportedOnly: false);
        var found = Devices(all, BackendKind.OpenCL);
        if (found.Count == 0) return "OpenCL: no platform shows a device" + advice;
        string seen = string.Join("; ", found.Select(d => d is CLDevice c
            ? $"{Describe(c)}{(c.Capabilities.GenericAddressSpace ? "" : " without the generic address space")}"
            : Describe(d)));
        return $"OpenCL: no device ILGPU can use (it needs OpenCL C 2.0, or 3.0 with the generic address space); found {seen}" + advice;
    }

    private static bool HasLibrary(string soname)
    {
        if (!NativeLibrary.TryLoad(soname, out var handle)) return false;
        NativeLibrary.Free(handle);
        return true;
    }
}
