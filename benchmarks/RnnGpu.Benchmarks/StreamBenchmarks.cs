using BenchmarkDotNet.Attributes;
using RnnGpu.Accelerators;
using RnnGpu.Model;

namespace RnnGpu.Benchmarks;

/// <summary>
/// One step of a live stream (<see cref="RnnModel.CreateStream"/>): batch 1, input 64, hidden 256,
/// one tanh layer, no head; the memory diagnoser's Allocated column should read 0 (the target).
/// </summary>
[MemoryDiagnoser]
public class StreamBenchmarks : IFlopCount
{
    private const int Input = 64, Hidden = 256;
    private Accelerator _acc = null!;
    private RnnModel _model = null!;
    private RnnStream _stream = null!;
    private readonly float[] _input = new float[Input];     // [1, I]
    private readonly float[] _output = new float[Hidden];   // [1, H]

    [ParamsSource(nameof(BackendNames))]
    public string Backend { get; set; } = BenchBackends.Cpu;

    public static IEnumerable<string> BackendNames => BenchBackends.Names;

    /// <summary>2 (I H + H H): the input and the recurrent product of one row.</summary>
    public double FlopsOf(string method) => 2.0 * (Input * Hidden + Hidden * Hidden);

    [GlobalSetup]
    public void Setup()
    {
        _acc = Backends.Open(Backend);
        _model = RnnModel.Create(new RnnConfig(Input, Hidden), _acc, seed: 1);
        _stream = _model.CreateStream(batch: 1);
        var rng = new Random(2);
        for (int i = 0; i < Input; i++) _input[i] = (float)rng.NextDouble() - 0.5f;
    }

    [Benchmark]
    public void StreamStep() => _stream.Step(_input, _output);

    [GlobalCleanup]
    public void Cleanup()
    {
        _stream.Dispose();
        _model.Dispose();
        _acc.Dispose();
    }
}
