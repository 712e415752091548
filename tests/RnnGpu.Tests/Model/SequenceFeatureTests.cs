using RnnGpu.Accelerators;
using RnnGpu.Model;
using RnnGpu.Tests.Support;
using RnnGpu.Training;

namespace RnnGpu.Tests.Model;

/// <summary>Variable lengths, dropout and truncated BPTT over packed batches: the properties PyTorch files cannot show.</summary>
public sealed class SequenceFeatureTests
{
    public static TheoryData<string> Backends => TestBackends.Names;

    [Fact]
    public void Layout_packs_only_real_steps_longest_first()
    {
        var layout = StepLayout.ForLengths(4, 5, [2, 5, 1, 5]);
        Assert.Equal([1, 3, 0, 2], layout.Order);               // stable: the two 5s keep their order
        Assert.Equal([4, 3, 2, 2, 2], layout.BatchSizes);
        Assert.Equal([0, 4, 7, 9, 11], layout.Offsets);
        Assert.Equal(13, layout.Rows);                           // = 2 + 5 + 1 + 5: cost follows the real steps
        Assert.False(layout.Uniform);
        var x = Enumerable.Range(0, 4 * 5).Select(i => (float)i).ToArray();   // [B=4, T=5, F=1]
        var back = layout.Unpack(layout.Pack(x, 1), 1);
        for (int b = 0; b < 4; b++)
        for (int t = 0; t < 5; t++)
            Assert.Equal(t < layout.LengthOf(b) ? x[b * 5 + t] : 0f, back[b * 5 + t]);

        Assert.Contains("length 6 of sequence 1", Assert.Throws<ShapeException>(() => StepLayout.ForLengths(2, 5, [5, 6])).Message);
        Assert.Contains("length 0", Assert.Throws<ShapeException>(() => StepLayout.ForLengths(2, 5, [0, 5])).Message);
        Assert.Contains("3 lengths for a batch of 2", Assert.Throws<ShapeException>(() => StepLayout.ForLengths(2, 5, [1, 2, 3])).Message);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void Large_pack_and_unpack_match_a_scalar_copy(int threads)
    {
        // Over a million floats with 67 features: the copy runs on the team and unpacks with streaming stores, whose
        // unaligned head and tail columns this width exercises.
        const int batch = 37, time = 450, features = 67;
        var lengths = Enumerable.Range(0, batch).Select(b => 1 + (b * 131) % time).ToArray();
        var layout = StepLayout.ForLengths(batch, time, lengths);
        var rng = new Random(12);
        var x = Enumerable.Range(0, batch * time * features).Select(_ => rng.NextSingle()).ToArray();
        var packed = new float[layout.Rows * features + 1];
        layout.PackInto(x, features, packed.AsSpan(1), threads);   // off a 64-byte boundary
        var back = Enumerable.Repeat(float.NaN, batch * time * features + 3).ToArray();
        layout.UnpackInto(packed.AsSpan(1), features, back.AsSpan(3), threads);
        for (int b = 0; b < batch; b++)
        for (int t = 0; t < time; t++)
        {
            int row = t < layout.LengthOf(b) ? layout.Offsets[t] + Array.IndexOf(layout.Order, b) : -1;
            for (int f = 0; f < features; f++)
            {
                int user = (b * time + t) * features + f;
                if (row >= 0) Assert.Equal(x[user], packed[1 + row * features + f]);
                Assert.Equal(row >= 0 ? x[user] : 0f, back[3 + user]);
            }
        }
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public void Padded_steps_take_no_part(string backend)
    {
        using var acc = TestBackends.Open(backend);
        var config = new RnnConfig(3, 5, 2, Activation.Tanh, 2, Bidirectional: true);
        using var model = RnnModel.Create(config, acc, seed: 3);
        var rng = new Random(4);
        int[] lengths = [2, 5, 3];
        var x = new Tensor(Numerics.Random(rng, 3 * 5 * 3), 3, 5, 3);
        var y = new Tensor(Numerics.Random(rng, 3 * 5 * 2), 3, 5, 2);
        var garbage = x.Clone();
        for (int b = 0; b < 3; b++)
        for (int t = lengths[b]; t < 5; t++)
        for (int i = 0; i < 3; i++) garbage.Data[(b * 5 + t) * 3 + i] = 1000f + i;
        var noisyTarget = y.Clone();
        noisyTarget.Data[(0 * 5 + 4) * 2] = 1e6f;   // past sequence 0's end

        var clean = model.ComputeGradients(x, y, LossKind.Mse, lengths: lengths);
        var noisy = model.ComputeGradients(garbage, noisyTarget, LossKind.Mse, lengths: lengths);
        Assert.Equal(clean.Loss, noisy.Loss);
        foreach (var (name, g) in clean.Parameters) Assert.Equal(g.Data, noisy.Parameters[name].Data);

        var output = model.Forward(garbage, lengths: lengths).Output;
        for (int b = 0; b < 3; b++)
        for (int t = lengths[b]; t < 5; t++)
            Assert.All(output.Data.AsSpan((b * 5 + t) * 2, 2).ToArray(), v => Assert.Equal(0f, v));

        // Sequence 2 (length 3) alone gives the same outputs as inside the padded batch.
        var alone = model.Forward(new Tensor(x.Data.AsSpan(2 * 15, 9).ToArray(), 1, 3, 3)).Output;
        for (int t = 0; t < 3; t++)
            Numerics.AssertClose(alone.Data.AsSpan(t * 2, 2), output.Data.AsSpan((2 * 5 + t) * 2, 2), 1e-5, 1e-6, $"sequence 2 step {t}");
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public void Final_state_of_each_sequence_is_its_own_last_step(string backend)
    {
        using var acc = TestBackends.Open(backend);
        using var model = RnnModel.Create(new RnnConfig(2, 4, 2, Activation.Tanh, 0), acc, seed: 6);
        var rng = new Random(2);
        var x = new Tensor(Numerics.Random(rng, 3 * 6 * 2), 3, 6, 2);
        int[] lengths = [4, 6, 1];
        var state = model.Forward(x, lengths: lengths).FinalState;   // [2, 3, 4]
        for (int b = 0; b < 3; b++)
        {
            // Run sequence b alone over exactly its real steps.
            var own = new Tensor(Enumerable.Range(0, lengths[b]).SelectMany(t => x.Data.AsSpan((b * 6 + t) * 2, 2).ToArray()).ToArray(), 1, lengths[b], 2);
            var alone = model.Forward(own).FinalState;
            for (int l = 0; l < 2; l++)
                Numerics.AssertClose(alone.Data.AsSpan(l * 4, 4), state.Data.AsSpan((l * 3 + b) * 4, 4), 1e-5, 1e-6, $"h_n layer {l} sequence {b}");
        }
    }

    [Theory]
    [MemberData(nameof(BackendsAndCells))]
    public void Truncated_bptt_with_lengths_carries_each_sequence_to_its_end(string backend, CellKind cell)
    {
        using var acc = TestBackends.Open(backend);
        var config = new RnnConfig(2, 5, 2, Activation.Tanh, 1, Cell: cell, ProjSize: cell == CellKind.Lstm ? 3 : 0);
        using var model = RnnModel.Create(config, acc, seed: 8);
        var rng = new Random(9);
        int[] lengths = [7, 2, 5, 4];
        var x = new Tensor(Numerics.Random(rng, 4 * 7 * 2), 4, 7, 2);
        var y = new Tensor(Numerics.Random(rng, 4 * 7), 4, 7, 1);
        var expected = model.Forward(x, lengths: lengths);
        // A learning rate too small to move any weight: the chunks must reproduce the whole-sequence states (h, and an LSTM's c).
        using var sgd = new Sgd(1e-30f);
        var result = new Trainer(model, sgd, LossKind.Mse, bptt: 3).Step(x, y, lengths: lengths);
        Assert.Equal(3, sgd.StepCount);   // chunks [0,3), [3,6), [6,7): the last holds only sequence 0
        Numerics.AssertClose(expected.FinalState.Data, result.FinalState.Data, 1e-5, 1e-6, "final states across chunks");
        Assert.Equal(expected.FinalCell is null, result.FinalCell is null);
        if (expected.FinalCell is { } c) Numerics.AssertClose(c.Data, result.FinalCell!.Data, 1e-5, 1e-6, "final cell states across chunks");
    }

    public static IEnumerable<TheoryDataRow<string, CellKind>> BackendsAndCells() =>
        from b in TestBackends.Names from c in Enum.GetValues<CellKind>() select new TheoryDataRow<string, CellKind>(b.Data, c);

    [Theory]
    [MemberData(nameof(Backends))]
    public void Dropout_is_training_only_seeded_and_scaled(string backend)
    {
        using var acc = TestBackends.Open(backend);
        var withDropout = new RnnConfig(3, 16, 3, Activation.Tanh, 2, Dropout: 0.5f);
        using var a = RnnModel.Create(withDropout, acc, seed: 1);
        using var plain = RnnModel.FromParameters(withDropout with { Dropout = 0f }, acc, a.StateDict());
        var rng = new Random(3);
        var x = new Tensor(Numerics.Random(rng, 4 * 6 * 3), 4, 6, 3);
        var y = new Tensor(Numerics.Random(rng, 4 * 6 * 2), 4, 6, 2);

        // Inference ignores dropout.
        Assert.Equal(plain.Forward(x).Output.Data, a.Forward(x).Output.Data);
        // Training applies it: the loss differs from the plain model's, and the same seed repeats it exactly.
        double noDrop = plain.ComputeGradients(x, y, LossKind.Mse).Loss;
        double first = a.ComputeGradients(x, y, LossKind.Mse, dropout: new DropoutMasks(0.5f, 7)).Loss;
        double again = a.ComputeGradients(x, y, LossKind.Mse, dropout: new DropoutMasks(0.5f, 7)).Loss;
        double other = a.ComputeGradients(x, y, LossKind.Mse, dropout: new DropoutMasks(0.5f, 8)).Loss;
        Assert.NotEqual(noDrop, first);
        Assert.Equal(first, again);
        Assert.NotEqual(first, other);

        using var b = RnnModel.FromParameters(withDropout, acc, a.StateDict());
        using var sa = new Sgd(0.1f);
        using var sb = new Sgd(0.1f);
        new Trainer(a, sa, LossKind.Mse, seed: 5).Step(x, y);
        new Trainer(b, sb, LossKind.Mse, seed: 5).Step(x, y);
        foreach (var (name, t) in a.StateDict()) Assert.Equal(t.Data, b.GetParameter(name).Data);
    }

    [Fact]
    public void Dropout_masks_keep_one_minus_p_scaled_by_its_inverse()
    {
        var mask = new DropoutMasks(0.3f, 1).Next(100_000);
        double kept = mask.Count(v => v != 0) / (double)mask.Length;
        Assert.InRange(kept, 0.69, 0.71);
        Assert.All(mask.Where(v => v != 0), v => Assert.Equal(1f / 0.7f, v));
        Assert.InRange(mask.Average(), 0.99, 1.01);   // expectation preserved
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public void Feature_misuse_is_a_clear_error(string backend)
    {
        using var acc = TestBackends.Open(backend);
        using var bidi = RnnModel.Create(new RnnConfig(2, 3, 1, Activation.Tanh, 1, Bidirectional: true), acc);
        using var sgd = new Sgd(0.1f);
        Assert.Contains("bidirectional", Assert.Throws<ShapeException>(() => new Trainer(bidi, sgd, LossKind.Mse, bptt: 2)).Message);
        Assert.Contains("[2, 2, 3]", Assert.Throws<ShapeException>(() => bidi.Forward(Tensor.Zeros(2, 4, 2), Tensor.Zeros(1, 2, 3))).Message);
        Assert.Contains("outside [1, 4]", Assert.Throws<ShapeException>(() => bidi.Forward(Tensor.Zeros(2, 4, 2), lengths: [4, 5])).Message);
        Assert.Throws<ShapeException>(() => new RnnConfig(2, 3, HeadInput: HeadInput.FinalState).Validate());
        Assert.Throws<ShapeException>(() => new RnnConfig(2, 3, 2, Dropout: 1f).Validate());
        using var m2o = RnnModel.Create(new RnnConfig(2, 3, 1, Activation.Tanh, 2, HeadInput: HeadInput.FinalState), acc);
        Assert.Contains("expected [2, 2]", Assert.Throws<ShapeException>(() =>
            new Trainer(m2o, sgd, LossKind.Mse).Step(Tensor.Zeros(2, 4, 2), Tensor.Zeros(2, 4, 2))).Message);
        Assert.Equal([2, 2], m2o.Forward(Tensor.Zeros(2, 4, 2)).Output.Shape);
    }
}
