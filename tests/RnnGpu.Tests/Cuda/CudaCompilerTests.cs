using System.Text;
using System.Text.RegularExpressions;
using RnnGpu.Accelerators;
using RnnGpu.Accelerators.Cuda;
using RnnGpu.Accelerators.Cuda.Native;
using RnnGpu.Tests.Support;

namespace RnnGpu.Tests.Cuda;

/// <summary>
/// What the CUDA back end can check without a GPU: every kernel file compiles through NVRTC (the CUDA
/// prelude and the back end's options) for sm_80 and sm_90, a compile error carries the log, the disk
/// cache keys and repairs its entries, and the library resolver finds NVRTC. Needs NVRTC (Debian:
/// libnvrtc11.2): skipped without it, except in CI (CI=true), where a missing NVRTC fails.
/// </summary>
public sealed partial class CudaCompilerTests : IDisposable
{
    private readonly string _cache = Directory.CreateTempSubdirectory("rnngpu-cudacache-").FullName;

    public void Dispose() => Directory.Delete(_cache, recursive: true);

    public static TheoryData<string, int> FilesAndArchitectures()
    {
        var data = new TheoryData<string, int>();
        foreach (var file in KernelSources.KernelFiles.Concat(KernelSources.CudaOnlyFiles))
        foreach (int arch in new[] { 80, 90 })
            data.Add(file, arch);
        return data;
    }

    private static NvrtcInfo RequireNvrtc()
    {
        var nvrtc = NvrtcInfo.TryLoad(out string why);
        if (nvrtc is not null) return nvrtc;
        if (TestBackends.IsCI) Assert.Fail($"CI=true requires NVRTC (install libnvrtc11.2 from Debian's non-free component): {why}");
        Assert.Skip($"NVRTC is not installed: {why}");
        return null!;
    }

    private CudaCompiler Compiler(NvrtcInfo nvrtc, int arch = 80, bool cubin = true, string? cache = null, IEnumerable<string>? defines = null) =>
        new(nvrtc, new CudaTarget(arch, cubin), defines ?? CudaAccelerator.Defines, cache);

    /// <summary>Every kernel a file declares: `__kernel void NAME(` in .cl files, the rnn_persistent_* entry points in .cu files.</summary>
    private static IEnumerable<string> KernelNames(string file)
    {
        string source = KernelSources.Load(file);
        if (file.EndsWith(".cl", StringComparison.Ordinal))
            return ClKernelPattern().Matches(source).Select(m => m.Groups[1].Value);
        return PersistentEntryPattern().Matches(source).Select(m => m.Groups[1].Value)
            .SelectMany(j => new[] { $"rnn_persistent_forward_{j}", $"rnn_persistent_backward_{j}" });
    }

    [Theory]
    [MemberData(nameof(FilesAndArchitectures))]
    public void Every_kernel_file_compiles_to_a_cubin_with_unmangled_kernel_names(string file, int arch)
    {
        var nvrtc = RequireNvrtc();
        var image = Compiler(nvrtc, arch).Compile(file);
        Assert.False(image.FromCache);
        Assert.True(image.Bytes.AsSpan().StartsWith("\x7f"u8.ToArray().Concat("ELF"u8.ToArray()).ToArray()), $"{file}: not an ELF CUBIN");
        var names = KernelNames(file).ToList();
        Assert.NotEmpty(names);
        string text = Encoding.Latin1.GetString(image.Bytes);
        foreach (var name in names)
            Assert.True(text.Contains(name + "\0", StringComparison.Ordinal), $"{file} for sm_{arch}: kernel {name} is not in the CUBIN (mangled or missing)");
    }

    [Fact]
    public void Ptx_is_the_fallback_target_and_ends_with_a_nul()
    {
        var nvrtc = RequireNvrtc();
        var image = Compiler(nvrtc, 80, cubin: false).Compile("gemm.cl");
        Assert.Equal(0, image.Bytes[^1]);
        string ptx = Encoding.ASCII.GetString(image.Bytes, 0, image.Bytes.Length - 1);
        Assert.Contains(".target sm_80", ptx);
        Assert.Contains(".entry gemm(", ptx);
    }

    [Fact]
    public void A_compile_error_names_the_file_and_carries_the_log()
    {
        var nvrtc = RequireNvrtc();
        const string broken = "__kernel void broken(__global float* x)\n{\n    x[0] = undefined_name;\n}\n";
        var e = Assert.Throws<CudaCompileException>(() => Compiler(nvrtc, 90, cache: _cache).Compile("broken.cl", broken));
        Assert.Equal("broken.cl", e.File);
        Assert.Equal("sm_90", e.Target);
        Assert.Equal(CudaStatus.NVRTC_ERROR_COMPILATION, e.Status);
        Assert.Equal("NVRTC_ERROR_COMPILATION", e.StatusName);
        Assert.Contains("undefined_name", e.Log);
        Assert.Contains("broken.cl(3)", e.Log);              // #line: the kernel file's own line numbers
        Assert.Contains("kernels/broken.cl", e.Message);
        Assert.Contains("--gpu-architecture=sm_90", e.Message);
        Assert.Contains(e.Log.Trim(), e.Message);
        Assert.IsAssignableFrom<RnnGpuException>(e);
        Assert.Empty(Directory.GetFiles(_cache, "*", SearchOption.AllDirectories));   // nothing cached
    }

    [Fact]
    public void The_cache_key_changes_with_target_options_and_source()
    {
        var nvrtc = RequireNvrtc();
        string source = KernelSources.Compose(KernelSources.CudaPrelude, "gemm.cl", KernelSources.Load("gemm.cl"));
        string key = Compiler(nvrtc, 80).Key(source);
        Assert.Equal(key, Compiler(nvrtc, 80).Key(source));
        Assert.NotEqual(key, Compiler(nvrtc, 90).Key(source));
        Assert.NotEqual(key, Compiler(nvrtc, 80, cubin: false).Key(source));
        Assert.NotEqual(key, Compiler(nvrtc, 80, defines: ["-DGROUP=128"]).Key(source));
        Assert.NotEqual(key, Compiler(nvrtc, 80).Key(source + "\n"));
        Assert.NotEqual(key, Compiler(nvrtc with { Minor = nvrtc.Minor + 1 }, 80).Key(source));
        Assert.EndsWith(".cubin", Compiler(nvrtc, 80, cache: _cache).CachePath("gemm.cl", source));
        Assert.EndsWith(".ptx", Compiler(nvrtc, 80, cubin: false, cache: _cache).CachePath("gemm.cl", source));
    }

    [Fact]
    public void Images_are_cached_on_disk_and_bad_entries_are_rebuilt()
    {
        var nvrtc = RequireNvrtc();
        var first = Compiler(nvrtc, cache: _cache);
        var built = first.Compile("elementwise.cl");
        Assert.Equal((0, 1), (first.CacheHits, first.SourceBuilds));
        string entry = Assert.Single(Directory.GetFiles(_cache, "elementwise-*.cubin"));

        var second = Compiler(nvrtc, cache: _cache);
        var cached = second.Compile("elementwise.cl");
        Assert.True(cached.FromCache);
        Assert.Equal(built.Bytes, cached.Bytes);
        Assert.Equal((1, 0), (second.CacheHits, second.SourceBuilds));

        // A flipped byte, a truncated file, an empty file: each is rebuilt from source and rewritten.
        var good = File.ReadAllBytes(entry);
        var flipped = (byte[])good.Clone();
        flipped[^10] ^= 0x55;
        foreach (var bad in new[] { flipped, good[..(good.Length / 2)], Array.Empty<byte>() })
        {
            File.WriteAllBytes(entry, bad);
            var third = Compiler(nvrtc, cache: _cache);
            var rebuilt = third.Compile("elementwise.cl");
            Assert.False(rebuilt.FromCache);
            Assert.Equal(built.Bytes, rebuilt.Bytes);
            Assert.Equal((0, 1), (third.CacheHits, third.SourceBuilds));
            Assert.Equal(good, File.ReadAllBytes(entry));
        }

        // refresh (what the accelerator asks when the driver refuses a cached image) ignores the entry.
        var fourth = Compiler(nvrtc, cache: _cache);
        Assert.False(fourth.Compile("elementwise.cl", refresh: true).FromCache);
        Assert.Equal((0, 1), (fourth.CacheHits, fourth.SourceBuilds));
    }

    [Fact]
    public void An_unwritable_cache_only_costs_a_compile()
    {
        var nvrtc = RequireNvrtc();
        string file = Path.Combine(_cache, "not-a-directory");
        File.WriteAllText(file, "");
        var compiler = Compiler(nvrtc, cache: Path.Combine(file, "cuda"));
        Assert.NotEmpty(compiler.Compile("rnn_step.cl").Bytes);
        Assert.NotEmpty(compiler.Compile("rnn_step.cl").Bytes);
        Assert.Equal(2, compiler.SourceBuilds);
    }

    [Fact]
    public void The_resolver_finds_nvrtc_and_reads_its_version_and_architectures()
    {
        var nvrtc = RequireNvrtc();
        Assert.NotNull(CudaLibraries.NvrtcPath);
        Assert.Equal(CudaLibraries.NvrtcPath, nvrtc.Path);
        Assert.True(nvrtc.Major >= 11, $"NVRTC {nvrtc.Version}");
        Assert.Contains(80, nvrtc.Architectures);
        Assert.Contains(90, nvrtc.Architectures);
        if (Environment.GetEnvironmentVariable(CudaLibraries.NvrtcVariable) is { Length: > 0 } explicitPath && File.Exists(explicitPath))
            Assert.Equal(explicitPath, nvrtc.Path);                  // the variable comes first
        var candidates = CudaLibraries.NvrtcCandidates();
        int v13 = IndexOf(candidates, "libnvrtc.so.13"), v12 = IndexOf(candidates, "libnvrtc.so.12"), v11 = IndexOf(candidates, "libnvrtc.so.11.2");
        Assert.True(0 <= v13 && v13 < v12 && v12 < v11, string.Join(", ", candidates));
    }

    private static int IndexOf(IReadOnlyList<string> list, string value)
    {
        for (int i = 0; i < list.Count; i++) if (list[i] == value) return i;
        return -1;
    }

    [Fact]
    public void The_target_is_the_devices_cubin_else_older_ptx()
    {
        var nvrtc = new NvrtcInfo(11, 8, [50, 60, 70, 75, 80, 86, 89, 90], "libnvrtc.so.11.2");
        Assert.Equal(new CudaTarget(90, Cubin: true), nvrtc.TargetFor(90));
        Assert.Equal(new CudaTarget(86, Cubin: true), nvrtc.TargetFor(86));
        Assert.Equal(new CudaTarget(90, Cubin: false), nvrtc.TargetFor(100));   // a newer GPU: PTX the driver compiles
        Assert.Equal(new CudaTarget(80, Cubin: false), nvrtc.TargetFor(82));
        Assert.Contains("sm_35", Assert.Throws<BackendUnavailableException>(() => nvrtc.TargetFor(35)).Message);
        Assert.Equal(new CudaTarget(90, Cubin: true), (nvrtc with { Architectures = [] }).TargetFor(90));   // before 11.2: cannot say
        Assert.Equal("--gpu-architecture=compute_90", new CudaTarget(90, Cubin: false).Option);
    }

    [Fact]
    public void The_persistent_plan_keeps_one_block_per_multiprocessor_and_fits_shared_memory()
    {
        // An H100 SXM: 132 multiprocessors, 227 KiB of shared memory per block with opt-in.
        const int sms = 132, shared = 227 * 1024;
        Assert.Equal(new PersistentPlan(1, 13, 1, (13 + 8) * 4), CudaAccelerator.Plan(false, 8, 13, sms, shared));
        var p256 = CudaAccelerator.Plan(false, 1, 256, sms, shared)!.Value;
        Assert.Equal((2, 128, 4), (p256.UnitsPerBlock, p256.Blocks, p256.Splits));
        var p1024 = CudaAccelerator.Plan(true, 16, 1024, sms, shared)!.Value;
        Assert.Equal((8, 128, 1), (p1024.UnitsPerBlock, p1024.Blocks, p1024.Splits));
        Assert.Equal((8 * 1024 + 16 * 8 + 16 * 8) * 4, p1024.SharedBytes);
        var p2048 = CudaAccelerator.Plan(false, 4, 2048, sms, shared)!.Value;
        Assert.Equal(16, p2048.UnitsPerBlock);
        Assert.True(p2048.SharedBytes > 48 * 1024);                    // needs the opt-in
        Assert.Null(CudaAccelerator.Plan(false, 4, 2048, sms, 100 * 1024)); // does not fit
        Assert.Null(CudaAccelerator.Plan(false, 4, 4096, sms, shared));     // J would be 32
        Assert.All(new[] { 1, 2, 3, 5, 7, 8, 31, 64 }, b =>
        {
            var p = CudaAccelerator.Plan(false, b, 700, sms, shared)!.Value;
            Assert.True(p.Blocks <= sms && p.Blocks * p.UnitsPerBlock >= 700, $"{p}");
            Assert.True(p.Splits * b <= Math.Max(b, 8), $"B={b}: {p}");
        });
    }

    [GeneratedRegex(@"__kernel\s+void\s+(\w+)\s*\(")]
    private static partial Regex ClKernelPattern();

    [GeneratedRegex(@"^PERSISTENT_ENTRY_POINTS\((\d+)\)", RegexOptions.Multiline)]
    private static partial Regex PersistentEntryPattern();
}
