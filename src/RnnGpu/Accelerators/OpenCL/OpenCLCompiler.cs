using System.Security.Cryptography;
using System.Text;
using RnnGpu.Accelerators.OpenCL.Native;
using RnnGpu.IO;
using static RnnGpu.Accelerators.OpenCL.Native.OpenCLConstants;
using static RnnGpu.Accelerators.OpenCL.Native.OpenCLNative;
using static RnnGpu.Accelerators.OpenCL.Native.OpenCLStatus;

namespace RnnGpu.Accelerators.OpenCL;

/// <summary>
/// Source to program for one device: the prelude and a kernel file built with the accelerator's
/// options, the binary cached on disk under a key of platform, device, driver, options and source.
/// A cache entry that does not load or build is rebuilt from source and rewritten; the cache is
/// best effort (a read-only or missing directory only costs a build). A build failure raises
/// <see cref="OpenCLBuildException"/> with the full log.
/// </summary>
internal sealed unsafe class OpenCLCompiler(OpenCLContextHandle context, OpenCLDevice device, string options, string? cacheDirectory)
{
    public string Options { get; } = options;
    public string? CacheDirectory { get; } = cacheDirectory;

    /// <summary>Programs loaded from the disk cache: observable by tests.</summary>
    public int CacheHits { get; private set; }

    /// <summary>Programs built from source.</summary>
    public int SourceBuilds { get; private set; }

    /// <summary>$RNNGPU_CACHE_DIR/opencl, else $XDG_CACHE_HOME/rnngpu/opencl, else ~/.cache/rnngpu/opencl; null when none can be named.</summary>
    public static string? DefaultCacheDirectory()
    {
        string? root = Environment.GetEnvironmentVariable("RNNGPU_CACHE_DIR");
        if (!string.IsNullOrEmpty(root)) return Path.Combine(root, "opencl");
        string? xdg = Environment.GetEnvironmentVariable("XDG_CACHE_HOME");
        if (!string.IsNullOrEmpty(xdg)) return Path.Combine(xdg, "rnngpu", "opencl");
        string home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        return string.IsNullOrEmpty(home) ? null : Path.Combine(home, ".cache", "rnngpu", "opencl");
    }

    /// <summary>Builds the embedded kernel file <paramref name="file"/>.</summary>
    public OpenCLProgramHandle Build(string file) => Build(file, KernelSources.Load(file));

    /// <summary>Builds <paramref name="kernelSource"/> as if it were kernels/<paramref name="file"/>.</summary>
    public OpenCLProgramHandle Build(string file, string kernelSource)
    {
        string source = KernelSources.Compose(KernelSources.OpenCLPrelude, file, kernelSource);
        string? path = CacheDirectory is null ? null : Path.Combine(CacheDirectory, $"{Path.GetFileNameWithoutExtension(file)}-{Key(source)}.bin");
        if (path is not null && TryLoadBinary(path) is { } cached)
        {
            CacheHits++;
            return cached;
        }
        var program = BuildSource(file, source);
        SourceBuilds++;
        if (path is not null) TryStoreBinary(program, path);
        return program;
    }

    private string Key(string source)
    {
        string identity = string.Join("\n", "rnngpu-opencl-v1", device.PlatformName, device.PlatformVersion, device.Name,
            device.DeviceVersion, device.DriverVersion, Options, source);
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(identity)))[..32];
    }

    private OpenCLProgramHandle BuildSource(string file, string source)
    {
        var bytes = Encoding.UTF8.GetBytes(source);
        OpenCLProgramHandle program;
        fixed (byte* p = bytes)
        {
            byte* strings = p;
            nuint length = (nuint)bytes.Length;
            program = clCreateProgramWithSource(context, 1, &strings, &length, out int status);
            ThrowIfFailed(status, "clCreateProgramWithSource");
        }
        int build = BuildProgram(program);
        if (build != CL_SUCCESS)
        {
            string log = BuildLog(program);
            program.Dispose();
            if (build == CL_BUILD_PROGRAM_FAILURE || log.Length > 0)
                throw new OpenCLBuildException(build, file, device.Description, Options, log);
            ThrowIfFailed(build, "clBuildProgram");
        }
        return program;
    }

    private int BuildProgram(OpenCLProgramHandle program)
    {
        var opts = Encoding.UTF8.GetBytes(Options + "\0");
        nint id = device.Id;
        fixed (byte* o = opts) return clBuildProgram(program, 1, &id, o, 0, 0);
    }

    private string BuildLog(OpenCLProgramHandle program)
    {
        nuint size = 0;
        if (clGetProgramBuildInfo(program, device.Id, CL_PROGRAM_BUILD_LOG, 0, null, &size) != CL_SUCCESS || size == 0) return "";
        var bytes = new byte[size];
        fixed (byte* p = bytes)
            if (clGetProgramBuildInfo(program, device.Id, CL_PROGRAM_BUILD_LOG, size, p, null) != CL_SUCCESS) return "";
        return Encoding.UTF8.GetString(bytes).TrimEnd('\0');
    }

    /// <summary>The cached program, or null when there is none or it does not load and build (then it is rebuilt).</summary>
    private OpenCLProgramHandle? TryLoadBinary(string path)
    {
        byte[] binary;
        try
        {
            if (!File.Exists(path)) return null;
            binary = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
        if (binary.Length == 0) return null;

        OpenCLProgramHandle program;
        fixed (byte* p = binary)
        {
            nint id = device.Id;
            nuint length = (nuint)binary.Length;
            byte* bin = p;
            int binaryStatus = 0;
            program = clCreateProgramWithBinary(context, 1, &id, &length, &bin, &binaryStatus, out int status);
            if (status != CL_SUCCESS || binaryStatus != CL_SUCCESS)
            {
                program.Dispose();
                return null;
            }
        }
        if (BuildProgram(program) != CL_SUCCESS)
        {
            program.Dispose();
            return null;
        }
        return program;
    }

    private void TryStoreBinary(OpenCLProgramHandle program, string path)
    {
        nuint size = 0;
        if (clGetProgramInfo(program, CL_PROGRAM_BINARY_SIZES, (nuint)sizeof(nuint), &size, null) != CL_SUCCESS || size == 0) return;
        var binary = new byte[size];
        fixed (byte* p = binary)
        {
            byte* bin = p;
            if (clGetProgramInfo(program, CL_PROGRAM_BINARIES, (nuint)sizeof(nint), &bin, null) != CL_SUCCESS) return;
        }
        try
        {
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            AtomicFile.Write(path, stream => stream.Write(binary));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // The cache is an optimisation: a directory we cannot write only means building again next time.
        }
    }
}
