using System.Text;
using RnnGpu.Accelerators.OpenCL.Native;
using static RnnGpu.Accelerators.OpenCL.Native.OpenCLConstants;
using static RnnGpu.Accelerators.OpenCL.Native.OpenCLNative;
using static RnnGpu.Accelerators.OpenCL.Native.OpenCLStatus;

namespace RnnGpu.Accelerators.OpenCL;

/// <summary>
/// One OpenCL device and what the back end needs to know of it. <see cref="Index"/> numbers the
/// devices of every platform in order, as `rnngpu devices` lists them and `--device N` chooses.
/// </summary>
internal sealed unsafe record OpenCLDevice(
    int Index, nint Platform, nint Id, string Name, string PlatformName, string PlatformVersion,
    string DeviceVersion, string DriverVersion, ulong Type, long GlobalMemory, long MaxAllocation,
    int MaxWorkGroupSize, int ComputeUnits, bool Available, bool HasFp64)
{
    public bool IsGpu => (Type & CL_DEVICE_TYPE_GPU) != 0;

    public string TypeName => IsGpu ? "GPU" : (Type & CL_DEVICE_TYPE_CPU) != 0 ? "CPU" : (Type & CL_DEVICE_TYPE_ACCELERATOR) != 0 ? "accelerator" : "other";

    public string Description => $"{Name} ({PlatformName}, {TypeName})";

    /// <summary>Every device of every platform. Throws <see cref="BackendUnavailableException"/> when OpenCL is missing or has none.</summary>
    public static IReadOnlyList<OpenCLDevice> List()
    {
        var platforms = Platforms();
        var devices = new List<OpenCLDevice>();
        foreach (var platform in platforms)
        {
            uint count = 0;
            int status = clGetDeviceIDs(platform, CL_DEVICE_TYPE_ALL, 0, null, &count);
            if (status == -1 /* CL_DEVICE_NOT_FOUND */ || count == 0) continue;
            ThrowIfFailed(status, "clGetDeviceIDs");
            var ids = new nint[count];
            fixed (nint* p = ids) ThrowIfFailed(clGetDeviceIDs(platform, CL_DEVICE_TYPE_ALL, count, p, null), "clGetDeviceIDs");
            foreach (var id in ids)
            {
                devices.Add(new OpenCLDevice(
                    devices.Count, platform, id, DeviceString(id, CL_DEVICE_NAME).Trim(),
                    PlatformString(platform, CL_PLATFORM_NAME), PlatformString(platform, CL_PLATFORM_VERSION),
                    DeviceString(id, CL_DEVICE_VERSION), DeviceString(id, CL_DRIVER_VERSION),
                    DeviceValue<ulong>(id, CL_DEVICE_TYPE), (long)DeviceValue<ulong>(id, CL_DEVICE_GLOBAL_MEM_SIZE),
                    (long)DeviceValue<ulong>(id, CL_DEVICE_MAX_MEM_ALLOC_SIZE), (int)DeviceValue<nuint>(id, CL_DEVICE_MAX_WORK_GROUP_SIZE),
                    (int)DeviceValue<uint>(id, CL_DEVICE_MAX_COMPUTE_UNITS), DeviceValue<uint>(id, CL_DEVICE_AVAILABLE) != 0,
                    DeviceString(id, CL_DEVICE_EXTENSIONS).Split(' ').Contains("cl_khr_fp64")));
            }
        }
        if (devices.Count == 0)
            throw new BackendUnavailableException("OpenCL: the installed platforms have no devices");
        return devices;
    }

    /// <summary>Device <paramref name="index"/>, or without one the first GPU, else the first device.</summary>
    public static OpenCLDevice Select(int? index)
    {
        var devices = List();
        if (index is { } i)
        {
            if (i < 0 || i >= devices.Count)
                throw new BackendUnavailableException(
                    $"OpenCL device {i} does not exist: this machine has {devices.Count} ({string.Join("; ", devices.Select(d => $"{d.Index}: {d.Description}"))})");
            return devices[i];
        }
        return devices.FirstOrDefault(d => d.IsGpu && d.Available) ?? devices.FirstOrDefault(d => d.Available) ?? devices[0];
    }

    private static nint[] Platforms()
    {
        uint count = 0;
        int status;
        try
        {
            status = clGetPlatformIDs(0, null, &count);
        }
        catch (DllNotFoundException)
        {
            throw new BackendUnavailableException(
                "OpenCL is not installed: libOpenCL.so.1 was not found (install an ICD loader and a driver, e.g. ocl-icd-libopencl1 and pocl-opencl-icd)");
        }
        catch (EntryPointNotFoundException e)
        {
            throw new BackendUnavailableException($"libOpenCL.so.1 lacks an OpenCL 1.2 entry point: {e.Message}");
        }
        if (status == CL_PLATFORM_NOT_FOUND_KHR || (status == CL_SUCCESS && count == 0))
            throw new BackendUnavailableException("OpenCL: no platform is installed (libOpenCL.so.1 found no ICD in /etc/OpenCL/vendors)");
        ThrowIfFailed(status, "clGetPlatformIDs");
        var platforms = new nint[count];
        fixed (nint* p = platforms) ThrowIfFailed(clGetPlatformIDs(count, p, null), "clGetPlatformIDs");
        return platforms;
    }

    private static string PlatformString(nint platform, uint param)
    {
        nuint size = 0;
        ThrowIfFailed(clGetPlatformInfo(platform, param, 0, null, &size), "clGetPlatformInfo");
        var bytes = new byte[size];
        fixed (byte* p = bytes) ThrowIfFailed(clGetPlatformInfo(platform, param, size, p, null), "clGetPlatformInfo");
        return Decode(bytes);
    }

    private static string DeviceString(nint device, uint param)
    {
        nuint size = 0;
        ThrowIfFailed(clGetDeviceInfo(device, param, 0, null, &size), "clGetDeviceInfo");
        var bytes = new byte[size];
        fixed (byte* p = bytes) ThrowIfFailed(clGetDeviceInfo(device, param, size, p, null), "clGetDeviceInfo");
        return Decode(bytes);
    }

    private static T DeviceValue<T>(nint device, uint param) where T : unmanaged
    {
        T value = default;
        ThrowIfFailed(clGetDeviceInfo(device, param, (nuint)sizeof(T), &value, null), "clGetDeviceInfo");
        return value;
    }

    private static string Decode(byte[] bytes) => Encoding.UTF8.GetString(bytes).TrimEnd('\0');
}
