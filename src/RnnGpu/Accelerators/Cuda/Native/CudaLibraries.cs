using System.Reflection;
using System.Runtime.InteropServices;

namespace RnnGpu.Accelerators.Cuda.Native;

/// <summary>
/// Finds the two native libraries of the CUDA back end for the [LibraryImport]s of this assembly.
/// The driver is libcuda.so.1 (installed with the NVIDIA driver, on the loader path). NVRTC comes with
/// the toolkit and its file name carries the CUDA major version, so the logical name
/// <see cref="Nvrtc"/> is resolved by trying, in order: $RNNGPU_NVRTC (a full path), libnvrtc.so.13,
/// libnvrtc.so.12, libnvrtc.so.11.2 on the loader path, then libnvrtc.so* (newest first) under
/// $CUDA_HOME, $CUDA_PATH, /usr/local/cuda/lib64 and /usr/local/cuda/targets/x86_64-linux/lib.
/// </summary>
internal static class CudaLibraries
{
    public const string Driver = "libcuda.so.1";
    public const string Nvrtc = "libnvrtc";
    public const string NvrtcVariable = "RNNGPU_NVRTC";
    public const string DriverVariable = "RNNGPU_LIBCUDA";

    private static readonly Lock Gate = new();
    private static bool _registered;
    private static (bool Tried, nint Handle, string? Path) _nvrtc;
    private static (bool Tried, nint Handle, string? Path) _driver;

    /// <summary>Installs the resolver for this assembly once (the bindings' static constructors call it).</summary>
    public static void EnsureResolver()
    {
        lock (Gate)
        {
            if (_registered) return;
            _registered = true;
            try
            {
                NativeLibrary.SetDllImportResolver(typeof(CudaLibraries).Assembly, Resolve);
            }
            catch (InvalidOperationException)
            {
                // Another resolver owns this assembly: the default probing still finds libcuda.so.1.
            }
        }
    }

    /// <summary>The file NVRTC was loaded from, or null when none of the candidates loads.</summary>
    public static string? NvrtcPath => LoadNvrtc() == 0 ? null : _nvrtc.Path;

    /// <summary>The file the driver was loaded from, or null when libcuda.so.1 is not installed.</summary>
    public static string? DriverPath => LoadDriver() == 0 ? null : _driver.Path;

    /// <summary>Where NVRTC is looked for, in order.</summary>
    public static IReadOnlyList<string> NvrtcCandidates()
    {
        var candidates = new List<string>();
        if (Environment.GetEnvironmentVariable(NvrtcVariable) is { Length: > 0 } explicitPath) candidates.Add(explicitPath);
        candidates.AddRange(["libnvrtc.so.13", "libnvrtc.so.12", "libnvrtc.so.11.2"]);
        var roots = new[] { Environment.GetEnvironmentVariable("CUDA_HOME"), Environment.GetEnvironmentVariable("CUDA_PATH"), "/usr/local/cuda" };
        foreach (var root in roots.Where(r => !string.IsNullOrEmpty(r)).Distinct())
        foreach (var dir in new[] { Path.Combine(root!, "lib64"), Path.Combine(root!, "targets", "x86_64-linux", "lib") })
            candidates.AddRange(VersionedFiles(dir, "libnvrtc.so"));
        return candidates.Distinct().ToList();
    }

    /// <summary>Where the driver is looked for, in order.</summary>
    public static IReadOnlyList<string> DriverCandidates()
    {
        var candidates = new List<string>();
        if (Environment.GetEnvironmentVariable(DriverVariable) is { Length: > 0 } explicitPath) candidates.Add(explicitPath);
        candidates.AddRange([Driver, "/usr/lib/x86_64-linux-gnu/libcuda.so.1", "/usr/lib64/libcuda.so.1", "/usr/lib/wsl/lib/libcuda.so.1"]);
        return candidates;
    }

    public static nint LoadNvrtc()
    {
        lock (Gate) return Load(ref _nvrtc, NvrtcCandidates());
    }

    public static nint LoadDriver()
    {
        lock (Gate) return Load(ref _driver, DriverCandidates());
    }

    private static nint Resolve(string libraryName, Assembly assembly, DllImportSearchPath? searchPath) => libraryName switch
    {
        Nvrtc => LoadNvrtc(),
        Driver => LoadDriver(),
        _ => 0,
    };

    private static nint Load(ref (bool Tried, nint Handle, string? Path) state, IReadOnlyList<string> candidates)
    {
        if (state.Tried) return state.Handle;
        state.Tried = true;
        foreach (var candidate in candidates)
        {
            if (NativeLibrary.TryLoad(candidate, out nint handle))
            {
                state = (true, handle, candidate);
                return handle;
            }
        }
        return 0;
    }

    /// <summary>NAME and NAME.* in <paramref name="dir"/>, the highest version first.</summary>
    private static IEnumerable<string> VersionedFiles(string dir, string name)
    {
        string[] files;
        try
        {
            files = Directory.Exists(dir) ? Directory.GetFiles(dir, name + "*") : [];
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return [];
        }
        return files
            .Where(f => Path.GetFileName(f) is var n && (n == name || n.StartsWith(name + ".", StringComparison.Ordinal)))
            .OrderByDescending(f => VersionOf(Path.GetFileName(f)[name.Length..]));
    }

    private static Version VersionOf(string suffix)
    {
        var parts = suffix.TrimStart('.').Split('.').Select(p => int.TryParse(p, out int v) ? v : 0).Take(4).ToList();
        while (parts.Count < 2) parts.Add(0);
        return parts.Count switch
        {
            2 => new Version(parts[0], parts[1]),
            3 => new Version(parts[0], parts[1], parts[2]),
            _ => new Version(parts[0], parts[1], parts[2], parts[3]),
        };
    }
}
