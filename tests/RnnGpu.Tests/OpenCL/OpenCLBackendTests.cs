using RnnGpu.Accelerators;
using RnnGpu.Accelerators.Cpu.Reference;
using RnnGpu.Accelerators.OpenCL;
using RnnGpu.Tests.Support;

namespace RnnGpu.Tests.OpenCL;

/// <summary>
/// What only the OpenCL back end has: device listing and selection, the build log in errors, the
/// disk cache of binaries, and clear out-of-memory errors. The kernels themselves are tested with
/// every other back end by the shared tests. Skipped without an OpenCL device, except in CI.
/// </summary>
public sealed class OpenCLBackendTests : IDisposable
{
    private readonly string _cache = Directory.CreateTempSubdirectory("rnngpu-clcache-").FullName;

    public OpenCLBackendTests() => TestBackends.RequireOpenCL();

    public void Dispose() => Directory.Delete(_cache, recursive: true);

    private OpenCLAccelerator OpenWithCache() => new(OpenCLDevice.Select(null), _cache);

    /// <summary>A small product through the GEMM kernel, checked against the reference.</summary>
    private static void AssertGemmWorks(Accelerator acc)
    {
        var rng = new Random(3);
        var spec = GemmSpec.Dense(false, true, 7, 13, 5);
        var a = Numerics.Random(rng, spec.ExtentA);
        var b = Numerics.Random(rng, spec.ExtentB);
        var expected = new float[spec.ExtentC];
        ReferenceKernels.Gemm(spec, a, b, expected);
        using var da = acc.Allocate(a.Length);
        using var db = acc.Allocate(b.Length);
        using var dc = acc.Allocate(expected.Length);
        acc.CopyIn(a, da);
        acc.CopyIn(b, db);
        acc.Gemm(spec, da, db, dc);
        Numerics.AssertClose(expected, acc.ToArray(dc), 2e-5, 2e-6, "GEMM");
    }

    [Fact]
    public void Devices_are_listed_after_the_cpu_and_chosen_by_index()
    {
        var devices = Backends.ListDevices();
        Assert.Equal(BackendKind.Cpu, devices[0].Backend);
        var opencl = devices.Where(d => d.Backend == BackendKind.OpenCL).ToList();
        Assert.NotEmpty(opencl);
        Assert.Equal(Enumerable.Range(0, opencl.Count), opencl.Select(d => d.Index));
        Assert.All(opencl, d => Assert.True(d.Name.Length > 0 && d.MemoryBytes > 0, $"{d.Name}: {d.MemoryBytes} bytes"));

        using var acc = Backends.Open("opencl", device: opencl[^1].Index);
        var cl = Assert.IsType<OpenCLAccelerator>(acc);
        Assert.Equal(BackendKind.OpenCL, acc.Kind);
        Assert.Equal(opencl[^1].Index, cl.DeviceIndex);
        Assert.Equal(opencl[^1].Name, acc.DeviceName);

        var missing = Assert.Throws<BackendUnavailableException>(() => Backends.Open("opencl", device: opencl.Count));
        Assert.Contains($"OpenCL device {opencl.Count} does not exist", missing.Message);
        Assert.Throws<BackendUnavailableException>(() => Backends.Open("cpu", device: 1));
    }

    [Fact]
    public void Without_a_device_index_opencl_prefers_a_gpu_and_auto_uses_only_a_gpu()
    {
        var devices = OpenCLDevice.List();
        var gpu = devices.FirstOrDefault(d => d.IsGpu);
        using (var acc = (OpenCLAccelerator)Backends.Open("opencl"))
            Assert.Equal((gpu ?? devices[0]).Index, acc.DeviceIndex);

        var notices = new List<string>();
        using var auto = Backends.Open("auto", notices.Add);
        if (gpu is null)
        {
            Assert.Equal(BackendKind.Cpu, auto.Kind);
            Assert.Contains("no OpenCL GPU", Assert.Single(notices));
        }
        else
        {
            Assert.Equal(BackendKind.OpenCL, auto.Kind);
        }
    }

    [Fact]
    public void A_kernel_that_does_not_compile_raises_the_build_log_and_the_accelerator_stays_usable()
    {
        using var acc = OpenWithCache();
        const string broken = "__kernel void broken(__global float* x)\n{\n    x[0] = undefined_name;\n}\n";
        var ex = Assert.Throws<OpenCLBuildException>(() => acc.Compiler.Build("broken.cl", broken));
        Assert.Equal("broken.cl", ex.File);
        Assert.Equal("clBuildProgram", ex.Call);
        Assert.Equal("CL_BUILD_PROGRAM_FAILURE", ex.StatusName);
        Assert.Contains("kernels/broken.cl", ex.Message);
        Assert.Contains("undefined_name", ex.BuildLog);
        Assert.Contains(ex.BuildLog.Trim(), ex.Message);
        // The #line directive after the prelude makes the log name the file and its own line, 3.
        Assert.Contains("broken.cl:3", ex.BuildLog);
        AssertGemmWorks(acc);
    }

    [Fact]
    public void Every_kernel_file_builds_on_the_device()
    {
        using var acc = OpenWithCache();
        Assert.Equal(["elementwise.cl", "gemm.cl", "losses.cl", "optimizers.cl", "reduce.cl", "rnn_step.cl"], KernelSources.KernelFiles);
        foreach (var file in KernelSources.KernelFiles) acc.Compiler.Build(file).Dispose();
        Assert.Equal(KernelSources.KernelFiles.Count, acc.Compiler.SourceBuilds);
    }

    [Fact]
    public void Binaries_are_cached_on_disk_and_a_corrupt_entry_is_rebuilt()
    {
        using (var first = OpenWithCache())
        {
            AssertGemmWorks(first);
            Assert.Equal((0, 1), (first.Compiler.CacheHits, first.Compiler.SourceBuilds));
        }
        var entry = Assert.Single(Directory.GetFiles(_cache));
        Assert.StartsWith("gemm-", Path.GetFileName(entry));
        Assert.EndsWith(".bin", entry);

        using (var second = OpenWithCache())
        {
            AssertGemmWorks(second);
            Assert.Equal((1, 0), (second.Compiler.CacheHits, second.Compiler.SourceBuilds));
        }

        File.WriteAllBytes(entry, [1, 2, 3, 4, 5]);
        using (var third = OpenWithCache())
        {
            AssertGemmWorks(third);
            Assert.Equal((0, 1), (third.Compiler.CacheHits, third.Compiler.SourceBuilds));
        }
        Assert.Single(Directory.GetFiles(_cache));   // rewritten in place, no temporary file left
        using (var fourth = OpenWithCache())
        {
            AssertGemmWorks(fourth);
            Assert.Equal((1, 0), (fourth.Compiler.CacheHits, fourth.Compiler.SourceBuilds));
        }
    }

    [Fact]
    public void The_cache_key_covers_the_build_options_and_the_source()
    {
        using var acc = OpenWithCache();
        acc.Compiler.Build("probe.cl", "__kernel void probe(__global float* x) { x[0] = 1.0f; }\n").Dispose();
        acc.Compiler.Build("probe.cl", "__kernel void probe(__global float* x) { x[0] = 2.0f; }\n").Dispose();
        acc.Compiler.Build("probe.cl", "__kernel void probe(__global float* x) { x[0] = 1.0f; }\n").Dispose();
        Assert.Equal((1, 2), (acc.Compiler.CacheHits, acc.Compiler.SourceBuilds));
        Assert.Equal(2, Directory.GetFiles(_cache, "probe-*.bin").Length);
    }

    [Fact]
    public void An_impossible_allocation_is_an_out_of_memory_error_and_the_accelerator_stays_usable()
    {
        using var acc = OpenWithCache();
        var ex = Assert.Throws<OpenCLOutOfMemoryException>(() => acc.Allocate(1_000_000_000_000));
        Assert.IsAssignableFrom<RnnGpuException>(ex);
        Assert.Contains("cannot allocate 1000000000000 floats", ex.Message);
        Assert.Contains(acc.DeviceName, ex.Message);
        AssertGemmWorks(acc);

        using var other = OpenWithCache();
        AssertGemmWorks(other);
    }

    [Fact]
    public void Failed_calls_name_the_call_and_the_status()
    {
        var oom = Assert.IsType<OpenCLOutOfMemoryException>(OpenCLException.From(-5, "clEnqueueNDRangeKernel"));
        Assert.Contains("clEnqueueNDRangeKernel failed: CL_OUT_OF_RESOURCES (-5)", oom.Message);
        Assert.Contains("stays usable", oom.Message);

        var lost = OpenCLException.From(-9999, "clFinish");
        Assert.True(lost.IsDeviceLost);
        Assert.Contains("open a new one", lost.Message);

        var other = OpenCLException.From(-54, "clEnqueueNDRangeKernel");
        Assert.IsNotType<OpenCLOutOfMemoryException>(other);
        Assert.Equal("clEnqueueNDRangeKernel failed: CL_INVALID_WORK_GROUP_SIZE (-54)", other.Message);
        Assert.Equal("status -12345", OpenCLException.From(-12345, "clFlush").StatusName);
    }
}
