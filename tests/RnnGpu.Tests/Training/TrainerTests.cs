using RnnGpu.Accelerators;
using RnnGpu.Model;
using RnnGpu.Tests.Model;
using RnnGpu.Tests.Support;
using RnnGpu.Training;

namespace RnnGpu.Tests.Training;

public sealed class TrainerTests
{
    public static TheoryData<string> Backends => TestBackends.Names;

    private static readonly RnnConfig Config = new(3, 6, 2, Activation.Tanh, 2);

    private static (Tensor X, Tensor Y) Batch(int seed, int batch = 4, int time = 7)
    {
        var rng = new Random(seed);
        return (new Tensor(Numerics.Random(rng, batch * time * 3), batch, time, 3),
                new Tensor(Numerics.Random(rng, batch * time * 2), batch, time, 2));
    }

    private static bool BitwiseEqual(RnnModel a, RnnModel b) =>
        a.Layout.Parameters.All(p => a.GetParameter(p.Name).Data.AsSpan().SequenceEqual(b.GetParameter(p.Name).Data));

    [Theory]
    [MemberData(nameof(Backends))]
    public void Training_reduces_the_loss_on_a_learnable_task(string backend)
    {
        using var acc = TestBackends.Open(backend);
        using var model = RnnModel.Create(new RnnConfig(1, 16, 1, Activation.Tanh, 1), acc, seed: 3);
        using var adam = new Adam(0.01f);
        var trainer = new Trainer(model, adam, LossKind.Mse);
        // Target: running sum of the inputs so far, a task that needs the recurrence.
        var rng = new Random(1);
        var x = new Tensor(Numerics.Random(rng, 16 * 10, 0.3f), 16, 10, 1);
        var y = Tensor.Zeros(16, 10, 1);
        for (int b = 0; b < 16; b++)
        {
            float sum = 0;
            for (int t = 0; t < 10; t++) y.Data[b * 10 + t] = sum += x.Data[b * 10 + t];
        }
        double first = trainer.Step(x, y).Loss, last = first;
        for (int i = 0; i < 300; i++) last = trainer.Step(x, y).Loss;
        Assert.True(last < first / 20, $"loss went from {first} to {last}");
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public void Same_seed_gives_bit_identical_training(string backend)
    {
        using var acc = TestBackends.Open(backend);
        // Large enough that the products run on several threads.
        var config = new RnnConfig(3, 160, 2, Activation.Tanh, 2);
        using var a = RnnModel.Create(config, acc, seed: 9);
        using var b = RnnModel.Create(config, acc, seed: 9);
        using var c = RnnModel.Create(config, acc, seed: 10);
        Assert.True(BitwiseEqual(a, b));
        Assert.False(BitwiseEqual(a, c));
        using var oa = new Adam(0.01f);
        using var ob = new Adam(0.01f);
        var (ta, tb) = (new Trainer(a, oa, LossKind.Mse, clipNorm: 0.5f), new Trainer(b, ob, LossKind.Mse, clipNorm: 0.5f));
        for (int i = 0; i < 3; i++)
        {
            var (x, y) = Batch(i, batch: 24);
            Assert.Equal(ta.Step(x, y).Loss, tb.Step(x, y).Loss);
        }
        Assert.True(BitwiseEqual(a, b));
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public void Truncated_bptt_is_one_step_per_chunk_with_the_state_carried(string backend)
    {
        using var acc = TestBackends.Open(backend);
        using var chunked = RnnModel.Create(Config, acc, seed: 4);
        using var manual = RnnModel.Create(Config, acc, seed: 4);
        using var o1 = new Sgd(0.1f, 0.9f);
        using var o2 = new Sgd(0.1f, 0.9f);
        var (x, y) = Batch(5, batch: 3, time: 7);
        var h0 = new Tensor(Numerics.Random(new Random(6), 2 * 3 * 6, 0.5f), 2, 3, 6);

        var result = new Trainer(chunked, o1, LossKind.Mse, bptt: 3).Step(x, y, h0);

        // The same by hand: chunks [0, 3), [3, 6), [6, 7), each starting from the previous final state.
        var trainer = new Trainer(manual, o2, LossKind.Mse);
        var state = h0;
        double weighted = 0;
        foreach (var (t0, len) in new[] { (0, 3), (3, 3), (6, 1) })
        {
            var step = trainer.Step(SliceTime(x, t0, len), SliceTime(y, t0, len), state);
            weighted += step.Loss * len;
            state = step.FinalState;
        }
        Assert.Equal(3, o1.StepCount);
        Assert.True(BitwiseEqual(chunked, manual));
        Assert.Equal(weighted / 7, result.Loss, 12);
        Assert.Equal(state.Data, result.FinalState.Data);
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public void Truncated_bptt_survives_a_model_that_has_seen_many_shapes(string backend)
    {
        using var acc = TestBackends.Open(backend);
        using var model = RnnModel.Create(Config, acc, seed: 4);
        using var sgd = new Sgd(0.1f);
        foreach (int batch in new[] { 1, 2, 3, 5 }) model.Forward(Tensor.Zeros(batch, 2, 3));
        var (x, y) = Batch(5, batch: 3, time: 10);
        var result = new Trainer(model, sgd, LossKind.Mse, bptt: 4).Step(x, y);   // chunks of 4, 4, 2: two new shapes
        Assert.True(double.IsFinite(result.Loss));
        Assert.Equal(3, sgd.StepCount);
    }

    private static Tensor SliceTime(Tensor t, int t0, int len)
    {
        int batch = t.Shape[0], time = t.Shape[1], f = t.Shape[2];
        var data = new float[batch * len * f];
        for (int b = 0; b < batch; b++)
            Array.Copy(t.Data, (b * time + t0) * f, data, b * len * f, len * f);
        return new Tensor(data, batch, len, f);
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public void Non_finite_loss_stops_the_step_and_leaves_weights_untouched(string backend)
    {
        using var acc = TestBackends.Open(backend);
        using var model = RnnModel.Create(Config, acc, seed: 1);
        using var adam = new Adam(0.01f);
        var trainer = new Trainer(model, adam, LossKind.Mse);
        var (x, y) = Batch(2);
        var before = model.StateDict();

        // A target so large that the squared error overflows float32.
        var huge = new Tensor(y.Data.Select(_ => 1e30f).ToArray(), y.Shape);
        Assert.Throws<NonFiniteException>(() => trainer.Step(x, huge));
        AssertUnchanged(before, model);

        // Finite but enormous weights overflow the outputs: refused too.
        var weights = model.GetParameter("head.weight");
        Array.Fill(weights.Data, 1e35f);
        model.SetParameter("head.weight", weights);
        var enormous = model.StateDict();
        Assert.Throws<NonFiniteException>(() => trainer.Step(x, y));
        AssertUnchanged(enormous, model);
        Assert.Equal(0, adam.StepCount);

        // A NaN weight cannot get in at all.
        weights.Data[0] = float.NaN;
        Assert.Contains("non-finite", Assert.Throws<ShapeException>(() => model.SetParameter("head.weight", weights)).Message);
    }

    private static void AssertUnchanged(IReadOnlyDictionary<string, Tensor> before, RnnModel model)
    {
        foreach (var (name, t) in model.StateDict())
            Assert.True(before[name].Data.AsSpan().SequenceEqual(t.Data), $"{name} changed");
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public void Clipping_scales_the_update_to_the_clip_norm(string backend)
    {
        using var acc = TestBackends.Open(backend);
        using var model = RnnModel.Create(Config, acc, seed: 2);
        var (x, y) = Batch(3);
        var before = model.StateDict();
        double norm = Math.Sqrt(model.ComputeGradients(x, y, LossKind.Mse).Parameters.Values.Sum(t => t.Data.Sum(v => (double)v * v)));
        using var sgd = new Sgd(1f);
        var result = new Trainer(model, sgd, LossKind.Mse, clipNorm: (float)(norm / 10)).Step(x, y);
        Assert.Equal(norm, result.GradientNorm, 1e-5);
        // With lr 1 the parameter change is the clipped gradient, whose norm is the clip.
        double moved = Math.Sqrt(model.StateDict().Sum(kv => kv.Value.Data.Select((v, i) => Math.Pow(v - before[kv.Key].Data[i], 2)).Sum()));
        Assert.Equal(norm / 10, moved, 1e-4);
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public void Bad_targets_and_settings_are_clear_errors(string backend)
    {
        using var acc = TestBackends.Open(backend);
        using var model = RnnModel.Create(Config, acc);
        using var sgd = new Sgd(0.1f);
        var (x, y) = Batch(1);
        var mse = new Trainer(model, sgd, LossKind.Mse);
        Assert.Contains("expected [4, 7, 2]", Assert.Throws<ShapeException>(() => mse.Step(x, Tensor.Zeros(4, 7, 3))).Message);
        var ce = new Trainer(model, sgd, LossKind.CrossEntropy);
        var classes = new Tensor(Enumerable.Repeat(1f, 28).ToArray(), 4, 7);
        classes.Data[9] = 2f;
        Assert.Contains("target class 2 at [1, 2]", Assert.Throws<ShapeException>(() => ce.Step(x, classes)).Message);
        classes.Data[9] = 0.5f;
        Assert.Throws<ShapeException>(() => ce.Step(x, classes));
        var bce = new Trainer(model, sgd, LossKind.BinaryCrossEntropy);
        Assert.Contains("outside [0, 1]", Assert.Throws<ShapeException>(() => bce.Step(x, y)).Message);
        Assert.Throws<ShapeException>(() => mse.Step(Tensor.Zeros(4, 7, 5), y));
        var nan = x.Clone();
        nan.Data[3] = float.NaN;
        Assert.Contains("non-finite", Assert.Throws<ShapeException>(() => mse.Step(nan, y)).Message);
        Assert.Throws<ShapeException>(() => new Trainer(model, sgd, LossKind.Mse, bptt: 0));
        Assert.Throws<ShapeException>(() => new Trainer(model, sgd, LossKind.Mse, clipNorm: -1));
        Assert.Throws<ShapeException>(() => new Sgd(-0.1f));
        Assert.Throws<ShapeException>(() => new Adam(0.1f, beta1: 1f));
        Assert.Throws<ShapeException>(() => model.Forward(x, Tensor.Zeros(1, 4, 6)));
    }
}
