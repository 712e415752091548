using RnnGpu.Accelerators.Cuda.Native;
using static RnnGpu.Accelerators.Cuda.Native.CudaStatus;
using static RnnGpu.Accelerators.Cuda.Native.NvrtcNative;

namespace RnnGpu.Accelerators.Cuda;

/// <summary>What NVRTC compiles a kernel file to: a CUBIN for one architecture (sm_90), or PTX for a virtual one (compute_90).</summary>
internal readonly record struct CudaTarget(int Architecture, bool Cubin)
{
    public string Name => Cubin ? $"sm_{Architecture}" : $"compute_{Architecture}";

    public string Option => $"--gpu-architecture={Name}";

    public override string ToString() => Name;
}

/// <summary>
/// The NVRTC this process loaded (see <see cref="CudaLibraries"/>): its version and the architectures it
/// compiles for. Loaded once; a missing NVRTC is a <see cref="BackendUnavailableException"/>.
/// </summary>
internal sealed unsafe record NvrtcInfo(int Major, int Minor, IReadOnlyList<int> Architectures, string Path)
{
    private static readonly Lazy<(NvrtcInfo? Info, string Why)> Loaded = new(Probe);

    public string Version => $"{Major}.{Minor}";

    /// <summary>NVRTC, or null with the reason it could not be loaded.</summary>
    public static NvrtcInfo? TryLoad(out string why)
    {
        var (info, reason) = Loaded.Value;
        why = reason;
        return info;
    }

    public static NvrtcInfo Load() =>
        TryLoad(out string why) ?? throw new BackendUnavailableException(why);

    /// <summary>
    /// The CUBIN of the device's own architecture when this NVRTC knows it; otherwise PTX for the newest
    /// virtual architecture it knows below the device's, which the driver compiles when it loads it.
    /// </summary>
    public CudaTarget TargetFor(int architecture)
    {
        if (Architectures.Count == 0 || Architectures.Contains(architecture)) return new CudaTarget(architecture, Cubin: true);
        var older = Architectures.Where(a => a <= architecture).ToList();
        if (older.Count == 0)
            throw new BackendUnavailableException(
                $"NVRTC {Version} ({Path}) compiles for sm_{Architectures.Min()} to sm_{Architectures.Max()}, but the device is sm_{architecture}: " +
                $"use an NVRTC that supports it (set {CudaLibraries.NvrtcVariable} to its path)");
        return new CudaTarget(older.Max(), Cubin: false);
    }

    private static (NvrtcInfo?, string) Probe()
    {
        if (CudaLibraries.LoadNvrtc() == 0)
            return (null, $"CUDA: NVRTC (the CUDA run-time compiler) was not found; tried {string.Join(", ", CudaLibraries.NvrtcCandidates())}. " +
                $"Install the CUDA toolkit's NVRTC (Debian: libnvrtc11.2) or set {CudaLibraries.NvrtcVariable} to the path of libnvrtc.so");
        try
        {
            int major = 0, minor = 0;
            ThrowIfNvrtcFailed(nvrtcVersion(&major, &minor), "nvrtcVersion");
            return (new NvrtcInfo(major, minor, SupportedArchitectures(), CudaLibraries.NvrtcPath!), "");
        }
        catch (Exception e) when (e is EntryPointNotFoundException or DllNotFoundException or CudaException)
        {
            return (null, $"CUDA: {CudaLibraries.NvrtcPath} is not a usable NVRTC: {e.Message}");
        }
    }

    /// <summary>The sm_XY numbers (e.g. 80, 90) this NVRTC compiles for; empty before NVRTC 11.2, which cannot say.</summary>
    private static int[] SupportedArchitectures()
    {
        try
        {
            int count = 0;
            if (nvrtcGetNumSupportedArchs(&count) != NVRTC_SUCCESS || count <= 0) return [];
            var archs = new int[count];
            fixed (int* p = archs)
                if (nvrtcGetSupportedArchs(p) != NVRTC_SUCCESS) return [];
            return archs;
        }
        catch (EntryPointNotFoundException)
        {
            return [];
        }
    }
}
