using BenchmarkDotNet.Attributes;
using RnnGpu.Accelerators;

namespace RnnGpu.Benchmarks;

/// <summary>
/// SGEMM on the shapes the RNN runs and two square ones to compare with BLAS. A case is "OP MxNxK": OP names
/// op(A) and op(B), N as stored or T transposed (TN: the weight gradient A^T B; NT: x W^T, the recurrent step).
/// </summary>
public class GemmBenchmarks : IFlopCount
{
    private Accelerator _acc = null!;
    private DeviceBuffer _a = null!, _b = null!, _c = null!;

    [ParamsSource(nameof(BackendNames))]
    public string Backend { get; set; } = "cpu";

    [Params("NN 512x512x512", "NN 1024x1024x1024",
        "NN 64x256x256", "NT 64x256x256", "NN 6400x256x64", "NT 6400x256x64", "TN 256x256x6400",
        "NT 1x256x256", "NT 1x256x64", "NT 32x256x256")]
    public string Case { get; set; } = "NN 512x512x512";

    public static IEnumerable<string> BackendNames => BenchBackends.Names;

    private (bool TransA, bool TransB, int M, int N, int K) Dims =>
        Case.Split(' ') is [var op, var shape] && shape.Split('x').Select(int.Parse).ToArray() is [var m, var n, var k]
            ? (op[0] == 'T', op[1] == 'T', m, n, k)
            : throw new ArgumentException($"bad GEMM case {Case}");

    public double FlopsOf(string method) => 2.0 * Dims.M * Dims.N * Dims.K;

    [GlobalSetup]
    public void Setup()
    {
        _acc = Backends.Open(Backend);
        var (_, _, m, n, k) = Dims;
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
        var (transA, transB, m, n, k) = Dims;
        _acc.Gemm(GemmSpec.Dense(transA, transB, m, n, k), _a, _b, _c);
        _acc.Synchronize();
    }

    [GlobalCleanup]
    public void Cleanup() => _acc.Dispose();
}
