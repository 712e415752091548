using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.CPU;
using RnnGpu.Accelerators;
using RnnGpu.Accelerators.Cpu.Reference;
using RnnGpu.Accelerators.Ilgpu;
using RnnGpu.Tests.Support;

namespace RnnGpu.Tests.Ilgpu;

/// <summary>
/// What the ILGPU back end adds to the kernels: device listing and selection, auto's fallback, and ILGPU's errors as
/// the engine's typed ones (no device, out of memory, a kernel that does not compile). The kernels themselves are
/// tested on every back end by the shared tests. Tests of a GPU that is not here skip; on ILGPU's CPU accelerator
/// nothing skips.
/// </summary>
public sealed class IlgpuBackendTests
{
    /// <summary>A small product through the GEMM kernel, checked against the reference.</summary>
    private static void AssertGemmWorks(RnnGpu.Accelerators.Accelerator acc)
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
        Numerics.AssertClose(expected, acc.ToArray(dc), 2e-5, 2e-6, $"GEMM on {acc.DeviceName}");
    }

    [Fact]
    public void Devices_list_the_cpu_then_the_ilgpu_cpu_accelerator_and_indices_are_checked()
    {
        var devices = Backends.ListDevices();
        Assert.Equal((BackendKind.Cpu, BackendKind.IlgpuCpu), (devices[0].Backend, devices[1].Backend));
        Assert.Equal(IlgpuAccelerator.CpuDeviceName, devices[1].Name);
        foreach (var kind in new[] { BackendKind.Cuda, BackendKind.OpenCL })
        {
            var ofKind = devices.Where(d => d.Backend == kind).ToList();
            Assert.Equal(Enumerable.Range(0, ofKind.Count), ofKind.Select(d => d.Index));
            Assert.All(ofKind, d => Assert.True(d.Name.Length > 0 && d.MemoryBytes > 0, $"{d.Name}: {d.MemoryBytes} bytes"));
            var missing = Assert.Throws<BackendUnavailableException>(() => Backends.Open(kind.Name(), device: ofKind.Count));
            Assert.Contains(ofKind.Count == 0 ? "--backend cpu" : $"device {ofKind.Count} does not exist", missing.Message);
        }
        using (var acc = Backends.Open("ilgpu-cpu", device: 0))
        {
            Assert.Equal(BackendKind.IlgpuCpu, acc.Kind);
            // One device stream: callers take turns, and a server runs one executor.
            Assert.Equal(new AcceleratorCapabilities(ParallelCallers: false, Threads: 1, HostMemory: false, Float64: true), acc.Capabilities);
        }
        using (var cpu = Backends.Open("cpu", threads: 2))
            Assert.Equal(new AcceleratorCapabilities(ParallelCallers: true, Threads: 2, HostMemory: true, Float64: true), cpu.Capabilities);
        Assert.Contains("device 1 does not exist", Assert.Throws<BackendUnavailableException>(() => Backends.Open("ilgpu-cpu", device: 1)).Message);
    }

    [Fact]
    public void A_missing_gpu_back_end_says_what_is_missing_and_auto_falls_back_in_one_line()
    {
        if (TestBackends.HasCuda) Assert.Skip("this machine has a CUDA device: the fallback is not taken");
        var cuda = Assert.Throws<BackendUnavailableException>(() => Backends.Open("cuda"));
        Assert.StartsWith("CUDA: ", cuda.Message);
        Assert.Contains(File.Exists("/usr/lib/x86_64-linux-gnu/libcuda.so.1") ? "shows no device" : "libcuda.so.1", cuda.Message);
        Assert.Contains("--backend cpu", cuda.Message);

        var notices = new List<string>();
        using var acc = Backends.Open("auto", notices.Add);
        Assert.NotEqual(BackendKind.Cuda, acc.Kind);
        string notice = Assert.Single(notices);
        Assert.StartsWith("auto: CUDA", notice);
        Assert.DoesNotContain('\n', notice);
        Assert.DoesNotContain("--backend", notice);
        Assert.Contains(acc.Kind == BackendKind.Cpu ? "using the CPU" : "using OpenCL", notice);
        if (!TestBackends.HasOpenCL)
            Assert.Contains("OpenCL", Assert.Throws<BackendUnavailableException>(() => Backends.Open("opencl")).Message);
    }

    public static TheoryData<string> Devices
    {
        get
        {
            var names = new TheoryData<string>("ilgpu-cpu");
            if (TestBackends.HasCuda) names.Add("cuda");
            if (TestBackends.HasOpenCL) names.Add("opencl");
            return names;
        }
    }

    [Theory]
    [MemberData(nameof(Devices))]
    public void Out_of_memory_is_typed_and_the_accelerator_stays_usable(string backend)
    {
        using var acc = Backends.Open(backend);
        using var kept = acc.Allocate(100);
        acc.Fill(kept, 4f);
        var e = Assert.Throws<DeviceOutOfMemoryException>(() => acc.Allocate(1L << 42));   // 16 TiB
        Assert.Contains("out of memory", e.Message);
        Assert.Contains(acc.DeviceName, e.Message);
        Assert.All(acc.ToArray(kept), v => Assert.Equal(4f, v));
        AssertGemmWorks(acc);
    }

    [Theory]
    [MemberData(nameof(Devices))]
    public async Task Any_thread_may_use_the_accelerator(string backend)
    {
        using var acc = Backends.Open(backend);
        using var buffer = acc.Allocate(64);
        await Task.Run(() => acc.Fill(buffer, 3f), TestContext.Current.CancellationToken);
        var other = new Thread(() => acc.Scale(buffer, 2f));
        other.Start();
        other.Join();
        Assert.All(acc.ToArray(buffer), v => Assert.Equal(6f, v));
    }

    [Theory]
    [MemberData(nameof(Devices))]
    public void Buffers_outliving_their_accelerator_are_freed_safely(string backend)
    {
        var acc = Backends.Open(backend);
        var buffer = acc.Allocate(1000);
        acc.Fill(buffer, 2f);
        Assert.Equal(2f, acc.ToArray(buffer)[999]);
        acc.Dispose();
        buffer.Dispose();
        using var again = Backends.Open(backend);
        AssertGemmWorks(again);
    }

    /// <summary>
    /// A product taller, or a batch longer, than one launch's grid may be (CUDA: 65535 row tiles, 65535 batches) is
    /// split into launches over consecutive rows and batches: here with the limit lowered to 2 row tiles and 3 batches.
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_gemm_larger_than_one_launchs_grid_is_split(bool transA)
    {
        using var acc = (IlgpuAccelerator)Backends.Open("ilgpu-cpu");
        acc.GemmGridLimit = (2, 3);
        var rng = new Random(transA ? 2 : 1);
        int m = 70, n = 9, k = 5, batches = 7;   // 70 rows in tiles of 16: 5 tiles, 3 launches per 3 batches
        var spec = new GemmSpec(transA, false, m, n, k, 0.5f, 0.25f, (transA ? m : k) + 1, n, n + 2) with
        {
            BatchCount = batches, StrideA = m * k + 9, StrideB = k * n + 1, StrideC = m * (n + 2) + 3,
        };
        var a = Numerics.Random(rng, spec.ExtentA);
        var b = Numerics.Random(rng, spec.ExtentB);
        var c = Numerics.Random(rng, spec.ExtentC);
        var expected = (float[])c.Clone();
        ReferenceKernels.Gemm(spec, a, b, expected);
        using var da = acc.Allocate(a.Length);
        using var db = acc.Allocate(b.Length);
        using var dc = acc.Allocate(c.Length);
        acc.CopyIn(a, da);
        acc.CopyIn(b, db);
        acc.CopyIn(c, dc);
        acc.Gemm(spec, da, db, dc);
        Numerics.AssertClose(expected, acc.ToArray(dc), 2e-5, 2e-6, $"split GEMM transA={transA}");
    }

    /// <summary>Not a valid kernel: ILGPU cannot compile a managed allocation.</summary>
    private static void AllocatesAnArray(ArrayView<float> x) => x[0] = new float[(int)x.Length].Length;

    [Fact]
    public void A_kernel_that_does_not_compile_is_named_with_ilgpus_message()
    {
        using var context = Context.Create(b => b.CPU().EnableAlgorithms());
        using var device = context.GetPreferredDevice(preferCPU: true).CreateAccelerator(context);
        var e = Assert.Throws<KernelCompilationException>(void () =>
            IlgpuKernels.Load("Tests.AllocatesAnArray", "test device", () => device.LoadStreamKernel<ArrayView<float>>(AllocatesAnArray)));
        Assert.Equal("Tests.AllocatesAnArray", e.Kernel);
        Assert.StartsWith("kernel Tests.AllocatesAnArray did not compile: test device: ", e.Message);
        Assert.NotNull(e.InnerException);
        Assert.Contains(e.InnerException!.Message, e.Message);
    }
}
