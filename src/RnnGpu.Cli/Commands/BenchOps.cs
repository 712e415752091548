using RnnGpu.Accelerators;
using RnnGpu.Accelerators.Cpu;
using RnnGpu.Model;
using RnnGpu.Training;

namespace RnnGpu.Cli.Commands;

/// <summary>What each `rnngpu bench --op` times; each returns the JSON line(s) to print.</summary>
internal static class BenchOps
{
    /// <summary>op rnn: the forward pass (infer) and a training step (train) of a random model on a random batch.</summary>
    public static IEnumerable<BenchResult> Rnn(Accelerator acc, BenchShape s, string mode, int warmup, int iters)
    {
        using var model = s.CreateModel(acc);
        var random = new Random(s.Seed + 1);
        var x = BenchShape.RandomTensor(random, s.Batch, s.Seq, s.Config.InputSize);
        var y = BenchShape.RandomTensor(random, s.Batch, s.Seq, s.Config.OutputWidth);
        if (mode is "infer" or "both")
        {
            // Into one output tensor reused across calls, as a service runs it (RnnModel.ForwardInto):
            // a fresh [B, T, H] array per call is a large-object allocation, and its collections cost more than
            // the pass itself at these sizes.
            var output = new Tensor(new float[(long)s.Batch * s.Seq * s.Config.OutputWidth], s.Batch, s.Seq, s.Config.OutputWidth);
            var line = RnnLine(acc, s, "infer", BenchTiming.Run(warmup, iters, () => model.ForwardInto(x, output)), s.ForwardFlops);
            yield return model.IsQuantized ? line with { RelError = QuantizationError(acc, s, x, output) } : line;
        }
        if (mode is "infer-alloc")
            yield return RnnLine(acc, s, "infer-alloc", BenchTiming.Run(warmup, iters, () => model.Forward(x)), s.ForwardFlops);
        if (mode is "train" or "both")
        {
            using var sgd = new Sgd(1e-4f);
            var trainer = new Trainer(model, sgd, LossKind.Mse);
            // Training FLOPs are taken as 3x the forward pass: the backward pass costs about
            // twice the forward (one GEMM for the input/state gradients, one for the weight gradients).
            yield return RnnLine(acc, s, "train", BenchTiming.Run(warmup, iters, () => trainer.Step(x, y)), 3 * s.ForwardFlops);
        }
    }

    /// <summary>‖y_quantized - y_fp32‖ / ‖y_fp32‖ over the batch: the float32 model of the same seed beside the quantized one's output.</summary>
    private static double QuantizationError(Accelerator acc, BenchShape s, Tensor x, Tensor quantized)
    {
        using var fp32 = (s with { Weights = QuantizedWeights.Fp32 }).CreateModel(acc);
        var exact = fp32.Forward(x).Output.Data;
        double diff = 0, norm = 0;
        for (int i = 0; i < exact.Length; i++)
        {
            diff += (quantized.Data[i] - exact[i]) * (double)(quantized.Data[i] - exact[i]);
            norm += exact[i] * (double)exact[i];
        }
        return BenchResult.Significant(Math.Sqrt(diff / norm), 3);
    }

    /// <summary>op gemm: C [M, N] = A [M, K] · B [K, N], all resident on the device.</summary>
    public static BenchResult Gemm(Accelerator acc, int m, int n, int k, int seed, int warmup, int iters)
    {
        var random = new Random(seed);
        using var a = acc.Allocate((long)m * k);
        using var b = acc.Allocate((long)k * n);
        using var c = acc.Allocate((long)m * n);
        acc.CopyIn(BenchShape.RandomValues(random, (long)m * k), a);
        acc.CopyIn(BenchShape.RandomValues(random, (long)k * n), b);
        var spec = GemmSpec.Dense(false, false, m, n, k);
        var timing = BenchTiming.Run(warmup, iters, () =>
        {
            acc.Gemm(spec, a, b, c);
            acc.Synchronize();
        });
        return Line(acc, "gemm", timing, 2.0 * m * n * k) with { M = m, N = n, K = k };
    }

    /// <summary>
    /// op recurrence: one layer's whole recurrence, h_t = act(pre_t + h_{t-1} W_hhᵀ) for t = 1..Seq, in place over
    /// resident states [Seq, B, H] (each run starts from the last one's states: the work is the same), W_hh [H, H].
    /// </summary>
    public static BenchResult Recurrence(Accelerator acc, BenchShape s, int warmup, int iters)
    {
        var (act, b, h, t) = (s.Config.Nonlinearity, s.Batch, s.Config.HiddenSize, s.Seq);
        var random = new Random(s.Seed);
        using var h0 = acc.Allocate((long)b * h);
        using var states = acc.Allocate((long)t * b * h);
        using var wHh = acc.Allocate((long)h * h);
        acc.CopyIn(BenchShape.RandomValues(random, (long)b * h), h0);
        acc.CopyIn(BenchShape.RandomValues(random, (long)t * b * h), states);
        acc.CopyIn(BenchShape.RandomValues(random, (long)h * h, 1f / MathF.Sqrt(h)), wHh);
        var stepRows = Enumerable.Repeat(b, t).ToArray();   // a uniform batch: every step runs every sequence
        var timing = BenchTiming.Run(warmup, iters, () =>
        {
            acc.RnnRecurrenceForward(act, stepRows, h, h0, wHh, states);
            acc.Synchronize();
        });
        return Line(acc, "recurrence", timing, 2.0 * t * b * h * h) with { Batch = b, Seq = t, Hidden = h, Nonlinearity = act.ToName() };
    }

    /// <summary>op step: one fused recurrent step h = act(pre + hPrev · W_hhᵀ), pre/hPrev/h [B, H], W_hh [H, H].</summary>
    public static BenchResult Step(Accelerator acc, BenchShape s, int warmup, int iters)
    {
        var (act, b, h) = (s.Config.Nonlinearity, s.Batch, s.Config.HiddenSize);
        var random = new Random(s.Seed);
        using var pre = acc.Allocate((long)b * h);
        using var hPrev = acc.Allocate((long)b * h);
        using var hNext = acc.Allocate((long)b * h);
        using var wHh = acc.Allocate((long)h * h);
        acc.CopyIn(BenchShape.RandomValues(random, (long)b * h), pre);
        acc.CopyIn(BenchShape.RandomValues(random, (long)b * h), hPrev);
        acc.CopyIn(BenchShape.RandomValues(random, (long)h * h, 1f / MathF.Sqrt(h)), wHh);
        // Separate pre, hPrev and h, so every iteration does the same work on the same values.
        var timing = BenchTiming.Run(warmup, iters, () =>
        {
            acc.RnnStepForward(act, b, h, pre, hPrev, wHh, hNext);
            acc.Synchronize();
        });
        return PerStep(Line(acc, "step", timing, 2.0 * b * h * h) with { Batch = b, Hidden = h, Nonlinearity = act.ToName() }, timing);
    }

    /// <summary>op stream: one step of <see cref="RnnModel.CreateStream"/> (every layer and the head), input [B, I], output [B, OutputWidth].</summary>
    public static BenchResult Stream(Accelerator acc, BenchShape s, int warmup, int iters)
    {
        using var model = s.CreateModel(acc);
        using var stream = model.CreateStream(batch: s.Batch);
        var input = BenchShape.RandomValues(new Random(s.Seed + 1), (long)s.Batch * s.Config.InputSize);
        var output = new float[s.Batch * s.Config.OutputWidth];
        var timing = BenchTiming.Run(warmup, iters, () => stream.Step(input, output));
        return PerStep(RnnLine(acc, s with { Seq = 1 }, "infer", timing, s.StepFlops) with { Op = "stream" }, timing);
    }

    private static BenchResult RnnLine(Accelerator acc, BenchShape s, string mode, BenchTiming timing, double flops)
    {
        var c = s.Config;
        return Line(acc, "rnn", timing, flops) with
        {
            Mode = mode, Batch = s.Batch, Seq = s.Seq, Input = c.InputSize, Hidden = c.HiddenSize, Layers = c.NumLayers,
            Output = c.OutputSize, Nonlinearity = c.Cell == CellKind.Rnn ? c.Nonlinearity.ToName() : null,
            Cell = c.Cell == CellKind.Rnn ? null : c.Cell.ToName(), ProjSize = c.ProjSize > 0 ? c.ProjSize : null,
            Weights = s.Weights == QuantizedWeights.Fp32 ? null : s.Weights.ToName(),
        };
    }

    private static BenchResult PerStep(BenchResult line, BenchTiming timing) =>
        line with { UsPerStep = BenchResult.Significant(timing.Median * 1e3, 4), BytesPerStep = timing.BytesPerIteration };

    private static BenchResult Line(Accelerator acc, string op, BenchTiming timing, double flops) => new(
        acc.Kind.Name(), acc.DeviceName, op, null,
        null, null, null, null, null, null, null, null, null, null,
        timing.Iterations, BenchResult.Significant(timing.Median, 6), BenchResult.Significant(timing.Min, 6),
        BenchResult.Significant(timing.Max, 6), BenchResult.Significant(timing.Gflops(flops), 4), null, null)
    {
        BatchInvariant = BatchInvariance.IsActive ? true : null,
        TeamSwitches = acc is CpuAccelerator ? CpuAccelerator.TeamSwitches : null,
        TeamAlone = acc is CpuAccelerator && CpuAccelerator.TeamSettledAlone ? true : null,
    };
}
