using RnnGpu.Accelerators;
using RnnGpu.Accelerators.Cpu.Reference;
using RnnGpu.Accelerators.Cuda;
using RnnGpu.Tests.Kernels;
using RnnGpu.Tests.Support;

namespace RnnGpu.Tests.Cuda;

/// <summary>
/// What only the CUDA back end has: device listing, the persistent recurrent kernel against the standard
/// path and the reference, the cache of compiled images, large copies through the pinned staging buffer,
/// GEMMs split over several launches, and clear errors. The kernels themselves run in every shared test
/// where "cuda" is in TestBackends.Names. Skipped, with the reason, on a machine without a CUDA device.
/// </summary>
public sealed class CudaBackendTests : IDisposable
{
    private readonly string _cache = Directory.CreateTempSubdirectory("rnngpu-cudadev-").FullName;

    public CudaBackendTests() => TestBackends.RequireCuda();

    public void Dispose() => Directory.Delete(_cache, recursive: true);

    private CudaAccelerator OpenWithCache() => new(CudaDeviceFor(null), _cache);

    private static CudaDevice CudaDeviceFor(int? index) => CudaDevice.Select(index);

    [Fact]
    public void Devices_are_listed_and_opened_by_index_and_auto_prefers_cuda()
    {
        var devices = Backends.ListDevices();
        var cuda = devices.Where(d => d.Backend == BackendKind.Cuda).ToList();
        Assert.NotEmpty(cuda);
        Assert.Equal(Enumerable.Range(0, cuda.Count), cuda.Select(d => d.Index));
        Assert.All(cuda, d => Assert.True(d.Name.Contains("sm_") && d.MemoryBytes > 0, $"{d.Name}: {d.MemoryBytes} bytes"));

        using (var acc = Backends.Open("cuda", device: cuda[^1].Index))
        {
            Assert.Equal(BackendKind.Cuda, acc.Kind);
            Assert.Equal(cuda[^1].Name, acc.DeviceName);
        }
        Assert.Contains($"CUDA device {cuda.Count} does not exist",
            Assert.Throws<BackendUnavailableException>(() => Backends.Open("cuda", device: cuda.Count)).Message);

        var notices = new List<string>();
        using var auto = Backends.Open("auto", notices.Add);
        Assert.Equal(BackendKind.Cuda, auto.Kind);
        Assert.Empty(notices);
    }

    public static IEnumerable<object[]> PersistentCases()
    {
        foreach (var act in new[] { Activation.Tanh, Activation.Relu })
        foreach (bool reverse in new[] { false, true })
        foreach (var (batch, hidden, time) in new[] { (1, 1, 2), (1, 256, 16), (3, 33, 7), (8, 130, 5), (16, 1024, 6), (5, 2048, 3), (40, 100, 4) })
            yield return [act, reverse, batch, hidden, time];
    }

    [Theory]
    [MemberData(nameof(PersistentCases))]
    public void Persistent_and_standard_paths_both_match_the_reference(Activation act, bool reverse, int batch, int hidden, int time)
    {
        using var acc = CudaAccelerator.Open();
        var p = RnnSequenceTests.Problem.Random(batch, hidden, time, hidden + time);
        foreach (var path in new[] { CudaRecurrencePath.Persistent, CudaRecurrencePath.Standard })
        {
            acc.RecurrencePath = path;
            int before = acc.PersistentLaunches;
            RnnSequenceTests.AssertMatchesReference(acc, p, act, reverse, $"{path} {act} reverse={reverse} B={batch} H={hidden} T={time}");
            Assert.Equal(path == CudaRecurrencePath.Persistent ? 2 : 0, acc.PersistentLaunches - before);
        }
    }

    [Fact]
    public void Auto_uses_the_persistent_kernel_for_small_batches_only()
    {
        using var acc = CudaAccelerator.Open();
        var small = RnnSequenceTests.Problem.Random(4, 64, 5, 1);
        RnnSequenceTests.AssertMatchesReference(acc, small, Activation.Tanh, false, "auto, small batch");
        Assert.Equal(2, acc.PersistentLaunches);
        var large = RnnSequenceTests.Problem.Random(CudaAccelerator.PersistentMaxBatch + 1, 64, 5, 2);
        RnnSequenceTests.AssertMatchesReference(acc, large, Activation.Tanh, false, "auto, large batch");
        Assert.Equal(2, acc.PersistentLaunches);
    }

    [Fact]
    public void A_shape_the_persistent_kernel_cannot_run_is_an_error_only_when_forced()
    {
        using var acc = CudaAccelerator.Open();
        acc.RecurrencePath = CudaRecurrencePath.Persistent;
        using var w = acc.Allocate(8192L * 8192);
        using var h0 = acc.Allocate(8192);
        using var states = acc.Allocate(2 * 8192);
        Assert.Contains("cannot run", Assert.Throws<InvalidOperationException>(() =>
            acc.RnnSequenceForward(Activation.Tanh, 1, 8192, 2, h0, w, states)).Message);
        acc.RecurrencePath = CudaRecurrencePath.Auto;
        acc.RnnSequenceForward(Activation.Tanh, 1, 8192, 2, h0, w, states);
        Assert.Equal(0, acc.PersistentLaunches);
    }

    [Fact]
    public void Compiled_images_are_cached_and_a_corrupt_entry_is_rebuilt()
    {
        using (var acc = OpenWithCache())
        {
            AssertGemmWorks(acc);
            Assert.Equal(1, acc.Compiler.SourceBuilds);
        }
        using (var acc = OpenWithCache())
        {
            AssertGemmWorks(acc);
            Assert.Equal((1, 0), (acc.Compiler.CacheHits, acc.Compiler.SourceBuilds));
        }
        foreach (var entry in Directory.GetFiles(_cache, "gemm-*", SearchOption.AllDirectories))
        {
            var bytes = File.ReadAllBytes(entry);
            Array.Fill(bytes, (byte)0x5a, bytes.Length / 2, 64);
            File.WriteAllBytes(entry, bytes);
        }
        using (var acc = OpenWithCache())
        {
            AssertGemmWorks(acc);
            Assert.Equal(1, acc.Compiler.SourceBuilds);
        }
    }

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
    public void Copies_larger_than_the_staging_buffer_and_many_small_ones_round_trip()
    {
        using var acc = CudaAccelerator.Open();
        const int n = (1 << 24) + (1 << 20) + 7;    // more than the largest staging buffer: copied in chunks
        var data = new float[n];
        for (int i = 0; i < n; i++) data[i] = i * 0.5f;
        using var big = acc.Allocate(n);
        acc.CopyIn(data, big);
        Assert.Equal(data, acc.ToArray(big));

        // Many copies in without a wait: each reads its own part of the staging buffer.
        using var small = acc.Allocate(1000);
        var expected = new float[1000];
        for (int k = 0; k < 100; k++)
        {
            var part = Enumerable.Range(0, 10).Select(i => (float)(k * 10 + i)).ToArray();
            acc.CopyIn(part, small.Slice(k * 10, 10));
            part.CopyTo(expected, k * 10);
        }
        Assert.Equal(expected, acc.ToArray(small));
    }

    [Fact]
    public void A_gemm_taller_than_one_launch_is_split()
    {
        using var acc = CudaAccelerator.Open();
        int m = 65535 * 64 + 100, n = 3, k = 2;           // more row tiles than gridDim.y allows
        var rng = new Random(9);
        foreach (bool transA in new[] { false, true })
        {
            var spec = GemmSpec.Dense(transA, false, m, n, k, 1f, 0f);
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
            Numerics.AssertClose(expected, acc.ToArray(dc), 2e-5, 2e-6, $"tall GEMM transA={transA}");
        }
    }

    [Fact]
    public void Out_of_memory_is_typed_and_the_accelerator_stays_usable()
    {
        using var acc = CudaAccelerator.Open();
        var e = Assert.Throws<CudaOutOfMemoryException>(() => acc.Allocate(1L << 40));   // 4 TiB
        Assert.Equal("CUDA_ERROR_OUT_OF_MEMORY", e.StatusName);
        Assert.Equal("cuMemAlloc_v2", e.Call);
        Assert.Contains("out of memory", e.Message);
        Assert.False(e.IsDeviceLost);
        AssertGemmWorks(acc);
    }

    [Fact]
    public void Buffers_outliving_their_accelerator_are_freed_safely()
    {
        var acc = CudaAccelerator.Open();
        var buffer = acc.Allocate(1000);
        acc.Fill(buffer, 2f);
        Assert.Equal(2f, acc.ToArray(buffer)[999]);
        acc.Dispose();
        buffer.Dispose();                      // the context is released only now
        using var again = CudaAccelerator.Open();
        AssertGemmWorks(again);
    }

    [Fact]
    public async Task Work_from_another_thread_makes_the_context_current_there()
    {
        using var acc = CudaAccelerator.Open();
        using var buffer = acc.Allocate(64);
        await Task.Run(() => acc.Fill(buffer, 3f), TestContext.Current.CancellationToken);
        var other = new Thread(() => acc.Scale(buffer, 2f));
        other.Start();
        other.Join();
        Assert.All(acc.ToArray(buffer), v => Assert.Equal(6f, v));
    }
}
