using BenchmarkDotNet.Attributes;
using RnnGpu.Accelerators;
using RnnGpu.Model;
using RnnGpu.Training;

namespace RnnGpu.Benchmarks;

/// <summary>
/// The fused recurrent step, the forward pass and the training step (forward, MSE, BPTT, SGD) of a
/// tanh RNN with no head (PyTorch's nn.RNN, as benchmarks/pytorch_cpu.py runs it), batch-first
/// [B, T, I], on every back end present; the "vs CPU" column divides by the CPU back end.
/// </summary>
[MemoryDiagnoser]
public class RnnBenchmarks : IFlopCount
{
    private Accelerator _acc = null!;
    private RnnModel _model = null!;
    private Trainer _trainer = null!;
    private Sgd _sgd = null!;
    private Tensor _x = null!, _y = null!;
    private DeviceBuffer _pre = null!, _hPrev = null!, _h = null!;

    [ParamsSource(nameof(BackendNames))]
    public string Backend { get; set; } = BenchBackends.Cpu;

    /// <summary>batch x time x input x hidden x layers: the two shapes of the CPU speed issue.</summary>
    [Params("64x100x64x256x1", "16x50x128x512x2")]
    public string Shape { get; set; } = "64x100x64x256x1";

    public static IEnumerable<string> BackendNames => BenchBackends.Names;

    private int[] D => Shape.Split('x').Select(int.Parse).ToArray();

    /// <summary>
    /// One step: 2 B H^2. Forward: per layer 2 T B (in H + H H). A training step counts 3x the
    /// forward (the backward pass does two products for each forward one).
    /// </summary>
    public double FlopsOf(string method)
    {
        var (b, t, i, h, l) = (D[0], D[1], D[2], D[3], D[4]);
        double perLayer(int input) => 2.0 * t * b * (input * h + h * h);
        double forward = perLayer(i) + (l - 1) * perLayer(h);
        return method switch
        {
            nameof(StepForward) => 2.0 * b * h * h,
            nameof(TrainStep) => 3 * forward,
            _ => forward,
        };
    }

    [GlobalSetup]
    public void Setup()
    {
        var (b, t, i, h, l) = (D[0], D[1], D[2], D[3], D[4]);
        _acc = Backends.Open(Backend);
        _model = RnnModel.Create(new RnnConfig(i, h, l, Activation.Tanh), _acc, seed: 1);
        _sgd = new Sgd(1e-3f);
        _trainer = new Trainer(_model, _sgd, LossKind.Mse);
        var rng = new Random(2);
        _x = new Tensor(Enumerable.Range(0, b * t * i).Select(_ => (float)rng.NextDouble() - 0.5f).ToArray(), b, t, i);
        _y = new Tensor(Enumerable.Range(0, b * t * h).Select(_ => (float)rng.NextDouble() - 0.5f).ToArray(), b, t, h);
        // pre, hPrev, h: [B, H], separate so that every invocation does the same work on the same values.
        _pre = _acc.Allocate((long)b * h);
        _hPrev = _acc.Allocate((long)b * h);
        _h = _acc.Allocate((long)b * h);
        _acc.CopyIn(Enumerable.Range(0, b * h).Select(_ => (float)rng.NextDouble() - 0.5f).ToArray(), _pre);
        _acc.CopyIn(Enumerable.Range(0, b * h).Select(_ => (float)rng.NextDouble() - 0.5f).ToArray(), _hPrev);
    }

    /// <summary>The fused step <see cref="Accelerator.RnnStepForward"/>: h = tanh(pre + hPrev W_hh^T).</summary>
    [Benchmark]
    public void StepForward()
    {
        _acc.RnnStepForward(Activation.Tanh, D[0], D[3], _pre, _hPrev, _model.Parameter(ParameterLayout.WeightHh(0)), _h);
        _acc.Synchronize();
    }

    [Benchmark]
    public Tensor Forward() => _model.Forward(_x).Output;

    [Benchmark]
    public double TrainStep() => _trainer.Step(_x, _y).Loss;

    [GlobalCleanup]
    public void Cleanup()
    {
        _pre.Dispose();
        _hPrev.Dispose();
        _h.Dispose();
        _model.Dispose();
        _sgd.Dispose();
        _acc.Dispose();
    }
}
