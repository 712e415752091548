using System.Text;
using RnnGpu.Accelerators.Cuda.Native;
using static RnnGpu.Accelerators.Cuda.Native.CudaNative;
using static RnnGpu.Accelerators.Cuda.Native.CudaStatus;

namespace RnnGpu.Accelerators.Cuda;

/// <summary>
/// One CUDA device and what the back end needs to know of it. <see cref="Index"/> is the driver's
/// ordinal, as `rnngpu devices` lists it and `--device N` chooses (CUDA_VISIBLE_DEVICES applies).
/// </summary>
internal sealed unsafe record CudaDevice(
    int Index, int Handle, string Name, long TotalMemory, int Major, int Minor, int Multiprocessors,
    int MaxThreadsPerBlock, int MaxSharedPerBlock, int MaxSharedPerBlockOptin, bool CooperativeLaunch, int DriverVersion)
{
    private const int CU_DEVICE_ATTRIBUTE_MAX_THREADS_PER_BLOCK = 1;
    private const int CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK = 8;
    private const int CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT = 16;
    private const int CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR = 75;
    private const int CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR = 76;
    private const int CU_DEVICE_ATTRIBUTE_COOPERATIVE_LAUNCH = 95;
    private const int CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN = 97;

    private static readonly Lazy<(int Result, string? Why)> Initialized = new(Initialize);

    /// <summary>The architecture as NVRTC numbers it: 90 for sm_90.</summary>
    public int Architecture => Major * 10 + Minor;

    public string Description => $"{Name} (CUDA, sm_{Architecture})";

    /// <summary>Every device the driver shows. Throws <see cref="BackendUnavailableException"/> without a driver or a device.</summary>
    public static IReadOnlyList<CudaDevice> List()
    {
        var (result, why) = Initialized.Value;
        if (why is not null) throw new BackendUnavailableException(why);
        ThrowIfFailed(result, "cuInit");
        int count = 0, driver = 0;
        ThrowIfFailed(cuDeviceGetCount(&count), "cuDeviceGetCount");
        if (count == 0) throw new BackendUnavailableException("CUDA: the NVIDIA driver is installed but shows no device");
        ThrowIfFailed(cuDriverGetVersion(&driver), "cuDriverGetVersion");
        var devices = new List<CudaDevice>(count);
        for (int i = 0; i < count; i++)
        {
            int device = 0;
            ThrowIfFailed(cuDeviceGet(&device, i), "cuDeviceGet");
            var name = new byte[256];
            fixed (byte* p = name) ThrowIfFailed(cuDeviceGetName(p, name.Length, device), "cuDeviceGetName");
            nuint memory = 0;
            ThrowIfFailed(cuDeviceTotalMem_v2(&memory, device), "cuDeviceTotalMem_v2");
            devices.Add(new CudaDevice(
                i, device, Encoding.UTF8.GetString(name).TrimEnd('\0').Trim(), (long)memory,
                Attribute(device, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR), Attribute(device, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR),
                Attribute(device, CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT), Attribute(device, CU_DEVICE_ATTRIBUTE_MAX_THREADS_PER_BLOCK),
                Attribute(device, CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK), Attribute(device, CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN),
                Attribute(device, CU_DEVICE_ATTRIBUTE_COOPERATIVE_LAUNCH) != 0, driver));
        }
        return devices;
    }

    /// <summary>Device <paramref name="index"/>, or device 0.</summary>
    public static CudaDevice Select(int? index)
    {
        var devices = List();
        int i = index ?? 0;
        if (i < 0 || i >= devices.Count)
            throw new BackendUnavailableException(
                $"CUDA device {i} does not exist: this machine has {devices.Count} ({string.Join("; ", devices.Select(d => $"{d.Index}: {d.Description}"))})");
        return devices[i];
    }

    private static int Attribute(int device, int attribute)
    {
        int value = 0;
        ThrowIfFailed(cuDeviceGetAttribute(&value, attribute, device), "cuDeviceGetAttribute");
        return value;
    }

    /// <summary>cuInit once per process. A missing driver or device is a reason to fall back, not an error.</summary>
    private static (int, string?) Initialize()
    {
        int result;
        try
        {
            result = cuInit(0);
        }
        catch (DllNotFoundException)
        {
            return (0, "CUDA is not available: the NVIDIA driver library libcuda.so.1 was not found (no NVIDIA driver on this machine); " +
                "use --backend cpu or --backend opencl");
        }
        catch (EntryPointNotFoundException e)
        {
            return (0, $"CUDA is not available: {CudaLibraries.DriverPath} lacks a driver API entry point: {e.Message}");
        }
        return result switch
        {
            CUDA_SUCCESS => (result, null),
            CUDA_ERROR_NO_DEVICE => (result, "CUDA is not available: the NVIDIA driver found no CUDA device; use --backend cpu or --backend opencl"),
            _ => (result, $"CUDA is not available: cuInit failed with {CudaStatus.Name(result)} ({result}){(CudaStatus.Description(result) is { } d ? ": " + d : "")}; " +
                "use --backend cpu or --backend opencl"),
        };
    }
}
