using BenchmarkDotNet.Attributes;
using RnnGpu.Accelerators;

namespace RnnGpu.Benchmarks;

/// <summary>SGEMM on the shapes the RNN runs: the input projection, the recurrent product, the weight gradient.</summary>
public class GemmBenchmarks : IFlopCount
{
    private Accelerator _acc = null!;
    private DeviceBuffer _a = null!, _b = null!, _c = null!;

    [ParamsSource(nameof(BackendNames))]
    public string Backend { get; set; } = "cpu";

    /// <summary>M x N x K.</summary>
    [Params("64x256x256", "6400x256x64", "256x256x6400", "512x512x512", "1024x1024x1024")]
    public string Shape { get; set; } = "512x512x512";

    [Params(false, true)]
    public bool TransB { get; set; }

    public static IEnumerable<string> BackendNames => BenchBackends.Names;

    private (int M, int N, int K) Dims => Shape.Split('x').Select(int.Parse).ToArray() is [var m, var n, var k] ? (m, n, k) : default;

    public double FlopsOf(string method) => 2.0 * Dims.M * Dims.N * Dims.K;

    [GlobalSetup]
    public void Setup()
    {
        _acc = Backends.Open(Backend);
        var (m, n, k) = Dims;
        _a = _acc.Allocate((long)m * k);
        _b = _acc.Allocate((long)k * n);
        _c = _acc.Allocate((long)m * n);
        var rng = new Random(1);
        _acc.CopyIn(Enumerable.Range(0, m * k).Select(_ => (float)rng.NextDouble()).ToArray(), _a);
        _acc.CopyIn(Enumerable.Range(0, k * n).Select(_ => (float)rng.NextDouble()).ToArray(), _b);
    }

    [Benchmark]
    public void Gemm()
    {
        var (m, n, k) = Dims;
        _acc.Gemm(GemmSpec.Dense(false, TransB, m, n, k), _a, _b, _c);
        _acc.Synchronize();
    }

    [GlobalCleanup]
    public void Cleanup() => _acc.Dispose();
}
