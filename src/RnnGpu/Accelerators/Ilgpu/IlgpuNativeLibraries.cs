using System.Reflection;
using System.Runtime.InteropServices;
using ILGPU;

namespace RnnGpu.Accelerators.Ilgpu;

/// <summary>
/// ILGPU imports the CUDA driver and the OpenCL loader by bare name (`cuda`, `OpenCL`), which .NET probes as
/// libcuda.so and libOpenCL.so: the development symlinks, which a machine with only the driver does not have.
/// This resolver points those names at the runtime sonames, libcuda.so.1 and libOpenCL.so.1.
/// </summary>
internal static class IlgpuNativeLibraries
{
    private static readonly Lazy<bool> Registered = new(Register);

    /// <summary>Registers the resolver once per process, before ILGPU first looks for a driver.</summary>
    public static void EnsureRegistered() => _ = Registered.Value;

    private static bool Register()
    {
        // Under WSL, ILGPU registers its own resolver for the driver in /usr/lib/wsl/lib; an assembly takes one.
        if (!OperatingSystem.IsLinux() || IsWsl()) return false;
        try
        {
            NativeLibrary.SetDllImportResolver(typeof(Context).Assembly, Resolve);
            return true;
        }
        catch (InvalidOperationException)
        {
            return false;   // someone (the host application) registered one first: theirs stands
        }
    }

    /// <summary>ILGPU's own test for WSL: its library folder, and "Microsoft" in the kernel's version.</summary>
    private static bool IsWsl()
    {
        try
        {
            return Directory.Exists("/usr/lib/wsl/lib") && File.ReadAllText("/proc/version").Contains("Microsoft", StringComparison.OrdinalIgnoreCase);
        }
        catch (IOException)
        {
            return false;
        }
    }

    private static IntPtr Resolve(string name, Assembly assembly, DllImportSearchPath? searchPath)
    {
        string? soname = name switch
        {
            "cuda" => "libcuda.so.1",
            "OpenCL" => "libOpenCL.so.1",
            _ => null,
        };
        if (soname is null) return IntPtr.Zero;
        if (NativeLibrary.TryLoad(soname, assembly, searchPath, out var handle)) return handle;
        return NativeLibrary.TryLoad(name, assembly, searchPath, out handle) ? handle : IntPtr.Zero;
    }
}
