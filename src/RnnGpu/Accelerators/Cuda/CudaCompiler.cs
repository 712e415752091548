using System.Security.Cryptography;
using System.Text;
using RnnGpu.IO;
using static RnnGpu.Accelerators.Cuda.Native.CudaStatus;
using static RnnGpu.Accelerators.Cuda.Native.NvrtcNative;

namespace RnnGpu.Accelerators.Cuda;

/// <summary>A compiled kernel file: CUBIN, or NUL-terminated PTX, as cuModuleLoadData takes it.</summary>
internal sealed record CudaImage(string File, CudaTarget Target, byte[] Bytes, bool FromCache);

/// <summary>
/// Source to image for one target: prelude_cuda.h and a kernel file compiled by NVRTC with the back end's
/// -D options, cached on disk under a key of NVRTC version, target, options and source. Needs no GPU, so
/// every kernel is compiled in CI. Cache entries are written atomically and carry a SHA-256 of their
/// contents; an entry that is truncated or corrupt (or that the driver refuses: the accelerator then
/// asks with <c>refresh</c>) is rebuilt from source and rewritten. The cache is best effort: a
/// directory that cannot be written only costs a compile. A compile error raises
/// <see cref="CudaCompileException"/> with the full log.
/// </summary>
internal sealed unsafe class CudaCompiler
{
    private static readonly byte[] Magic = "RNNGPU-CUDA-1\n"u8.ToArray();
    private static readonly Lock NvrtcGate = new();

    public CudaCompiler(NvrtcInfo nvrtc, CudaTarget target, IEnumerable<string> defines, string? cacheDirectory)
    {
        Nvrtc = nvrtc;
        Target = target;
        Options = [target.Option, .. defines];
        CacheDirectory = cacheDirectory;
    }

    public NvrtcInfo Nvrtc { get; }
    public CudaTarget Target { get; }
    public IReadOnlyList<string> Options { get; }
    public string? CacheDirectory { get; }
    public string OptionsText => string.Join(' ', Options);

    /// <summary>Images read from the disk cache: observable by tests.</summary>
    public int CacheHits { get; private set; }

    /// <summary>Images compiled from source.</summary>
    public int SourceBuilds { get; private set; }

    /// <summary>$RNNGPU_CACHE_DIR/cuda, else $XDG_CACHE_HOME/rnngpu/cuda, else ~/.cache/rnngpu/cuda; null when none can be named.</summary>
    public static string? DefaultCacheDirectory()
    {
        string? root = Environment.GetEnvironmentVariable("RNNGPU_CACHE_DIR");
        if (!string.IsNullOrEmpty(root)) return Path.Combine(root, "cuda");
        string? xdg = Environment.GetEnvironmentVariable("XDG_CACHE_HOME");
        if (!string.IsNullOrEmpty(xdg)) return Path.Combine(xdg, "rnngpu", "cuda");
        string home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        return string.IsNullOrEmpty(home) ? null : Path.Combine(home, ".cache", "rnngpu", "cuda");
    }

    /// <summary>Compiles the embedded kernel file <paramref name="file"/> (a .cl or .cu of kernels/).</summary>
    public CudaImage Compile(string file, bool refresh = false) => Compile(file, KernelSources.Load(file), refresh);

    /// <summary>Compiles <paramref name="kernelSource"/> as if it were kernels/<paramref name="file"/>; with <paramref name="refresh"/>, ignores the cache entry.</summary>
    public CudaImage Compile(string file, string kernelSource, bool refresh = false)
    {
        string source = KernelSources.Compose(KernelSources.CudaPrelude, file, kernelSource);
        string? path = CachePath(file, source);
        if (!refresh && path is not null && TryRead(path) is { } cached)
        {
            CacheHits++;
            return new CudaImage(file, Target, cached, FromCache: true);
        }
        var image = CompileSource(file, source);
        SourceBuilds++;
        if (path is not null) TryWrite(path, image);
        return new CudaImage(file, Target, image, FromCache: false);
    }

    /// <summary>The cache file of a composed source, or null without a cache directory.</summary>
    internal string? CachePath(string file, string composedSource) =>
        CacheDirectory is null ? null
            : Path.Combine(CacheDirectory, $"{Path.GetFileNameWithoutExtension(file)}-{Key(composedSource)}.{(Target.Cubin ? "cubin" : "ptx")}");

    /// <summary>SHA-256 of everything the image depends on: NVRTC version, target, options and the source.</summary>
    internal string Key(string composedSource)
    {
        string identity = string.Join("\n", "rnngpu-cuda-v1", Nvrtc.Version, Target.Name, OptionsText, composedSource);
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(identity)))[..32];
    }

    private byte[] CompileSource(string file, string source)
    {
        var src = Encoding.UTF8.GetBytes(source + "\0");
        var name = Encoding.UTF8.GetBytes(file + "\0");
        var options = Options.Select(o => Encoding.UTF8.GetBytes(o + "\0")).ToArray();
        var pins = options.Select(o => System.Runtime.InteropServices.GCHandle.Alloc(o, System.Runtime.InteropServices.GCHandleType.Pinned)).ToArray();
        // NVRTC is thread-safe in recent versions; older ones were not, and compiling is rare: one at a time.
        lock (NvrtcGate)
        {
            nint program = 0;
            try
            {
                fixed (byte* s = src)
                fixed (byte* n = name)
                    ThrowIfNvrtcFailed(nvrtcCreateProgram(&program, s, n, 0, null, null), "nvrtcCreateProgram");
                byte** opts = stackalloc byte*[options.Length];
                for (int i = 0; i < options.Length; i++) opts[i] = (byte*)pins[i].AddrOfPinnedObject();
                int result = nvrtcCompileProgram(program, options.Length, opts);
                if (result != NVRTC_SUCCESS)
                {
                    string log = Log(program);
                    if (result == NVRTC_ERROR_COMPILATION || log.Length > 0)
                        throw new CudaCompileException(result, file, Target.Name, OptionsText, log);
                    ThrowIfNvrtcFailed(result, "nvrtcCompileProgram");
                }
                return Target.Cubin ? Cubin(program) : Ptx(program);
            }
            finally
            {
                if (program != 0) nvrtcDestroyProgram(&program);
                foreach (var pin in pins) pin.Free();
            }
        }
    }

    private static string Log(nint program)
    {
        nuint size = 0;
        if (nvrtcGetProgramLogSize(program, &size) != NVRTC_SUCCESS || size <= 1) return "";
        var bytes = new byte[size];
        fixed (byte* p = bytes)
            if (nvrtcGetProgramLog(program, p) != NVRTC_SUCCESS) return "";
        return Encoding.UTF8.GetString(bytes).TrimEnd('\0');
    }

    private static byte[] Cubin(nint program)
    {
        nuint size = 0;
        ThrowIfNvrtcFailed(nvrtcGetCUBINSize(program, &size), "nvrtcGetCUBINSize");
        var bytes = new byte[size];
        fixed (byte* p = bytes) ThrowIfNvrtcFailed(nvrtcGetCUBIN(program, p), "nvrtcGetCUBIN");
        return bytes;
    }

    /// <summary>The PTX text with its terminating NUL, which cuModuleLoadData needs.</summary>
    private static byte[] Ptx(nint program)
    {
        nuint size = 0;
        ThrowIfNvrtcFailed(nvrtcGetPTXSize(program, &size), "nvrtcGetPTXSize");
        var bytes = new byte[size];
        fixed (byte* p = bytes) ThrowIfNvrtcFailed(nvrtcGetPTX(program, p), "nvrtcGetPTX");
        return bytes;
    }

    /// <summary>The cached image, or null when there is none or it is truncated or corrupt (then it is rebuilt).</summary>
    private static byte[]? TryRead(string path)
    {
        byte[] entry;
        try
        {
            if (!File.Exists(path)) return null;
            entry = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
        int header = Magic.Length + SHA256.HashSizeInBytes;
        if (entry.Length <= header || !entry.AsSpan(0, Magic.Length).SequenceEqual(Magic)) return null;
        var payload = entry.AsSpan(header);
        if (!SHA256.HashData(payload).AsSpan().SequenceEqual(entry.AsSpan(Magic.Length, SHA256.HashSizeInBytes))) return null;
        return payload.ToArray();
    }

    private static void TryWrite(string path, byte[] image)
    {
        try
        {
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            AtomicFile.Write(path, stream =>
            {
                stream.Write(Magic);
                stream.Write(SHA256.HashData(image));
                stream.Write(image);
            });
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // The cache is an optimisation: a directory we cannot write only means compiling again next time.
        }
    }
}
