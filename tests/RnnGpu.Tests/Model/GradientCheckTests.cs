using RnnGpu.Accelerators;
using RnnGpu.Model;
using RnnGpu.Tests.Support;
using RnnGpu.Training;

namespace RnnGpu.Tests.Model;

/// <summary>
/// Every gradient the engine computes by BPTT (all parameters, the input, the initial state) against
/// central finite differences of the independent float64 <see cref="ReferenceRnn"/> loss.
/// </summary>
public sealed class GradientCheckTests
{
    public static IEnumerable<object[]> Cases()
    {
        // layers, activation, input, hidden, output (0: no head), batch, time, loss
        object[][] configs =
        [
            [1, Activation.Tanh, 3, 5, 4, 2, 7, LossKind.Mse],
            [2, Activation.Tanh, 3, 4, 3, 3, 5, LossKind.CrossEntropy],
            [2, Activation.Relu, 5, 7, 4, 2, 6, LossKind.Mse],
            [3, Activation.Tanh, 4, 3, 2, 2, 4, LossKind.BinaryCrossEntropy],
            [2, Activation.Tanh, 2, 5, 0, 3, 3, LossKind.Mse],
            [1, Activation.Relu, 7, 13, 6, 1, 9, LossKind.CrossEntropy],
        ];
        foreach (var backend in TestBackends.Names)
        foreach (var c in configs)
            yield return [backend, .. c];
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Bptt_gradients_match_finite_differences(string backend, int layers, Activation act, int input, int hidden,
        int output, int batch, int time, LossKind loss)
    {
        using var acc = TestBackends.Open(backend);
        var config = new RnnConfig(input, hidden, layers, act, output);
        using var model = RnnModel.Create(config, acc, seed: 42);
        var rng = new Random(7);
        var x = new Tensor(Numerics.Random(rng, batch * time * input), batch, time, input);
        var h0 = new Tensor(Numerics.Random(rng, layers * batch * hidden, 0.5f), layers, batch, hidden);
        var target = MakeTarget(rng, loss, batch, time, config.OutputWidth);

        var result = model.ComputeGradients(x, target, loss, h0);

        var reference = ReferenceRnn.FromModel(model);
        double[] xd = Numerics.ToDouble(x), h0d = Numerics.ToDouble(h0), td = Numerics.ToDouble(target);
        double Loss() => reference.Loss(xd, h0d, td, loss, batch, time);
        Assert.InRange(result.Loss, Loss() - 1e-5 * Math.Abs(Loss()) - 1e-7, Loss() + 1e-5 * Math.Abs(Loss()) + 1e-7);

        foreach (var (name, values) in reference.Parameters)
            Numerics.AssertClose(Numerics.FiniteDifferences(values, Loss), result.Parameters[name].Data, 1e-3, 2e-5, $"d{name}");
        Numerics.AssertClose(Numerics.FiniteDifferences(xd, Loss), result.Input.Data, 1e-3, 2e-5, "dInput");
        Numerics.AssertClose(Numerics.FiniteDifferences(h0d, Loss), result.InitialState.Data, 1e-3, 2e-5, "dH0");
    }

    /// <summary>The sequence features: bidirectional and stacked, variable lengths, many-to-one, dropout with fixed masks.</summary>
    private static readonly Dictionary<string, (RnnConfig Config, int Batch, int Time, int[]? Lengths, LossKind Loss)> Features = new()
    {
        ["bidirectional 2 layers, mse"] = (new RnnConfig(3, 4, 2, Activation.Tanh, 3, Bidirectional: true), 2, 5, null, LossKind.Mse),
        ["lengths, 2 layers, ce"] = (new RnnConfig(3, 5, 2, Activation.Tanh, 4), 4, 6, [6, 2, 4, 1], LossKind.CrossEntropy),
        ["lengths, bidirectional relu, bce"] = (new RnnConfig(4, 5, 1, Activation.Relu, 2, Bidirectional: true), 3, 5, [3, 5, 1], LossKind.BinaryCrossEntropy),
        ["many-to-one, lengths, bidirectional 2 layers"] = (new RnnConfig(3, 4, 2, Activation.Tanh, 2, Bidirectional: true, HeadInput: HeadInput.FinalState), 3, 4, [2, 4, 3], LossKind.Mse),
        ["many-to-one ce"] = (new RnnConfig(2, 6, 1, Activation.Tanh, 3, HeadInput: HeadInput.FinalState), 4, 3, null, LossKind.CrossEntropy),
        ["dropout 3 layers, lengths"] = (new RnnConfig(3, 4, 3, Activation.Tanh, 2, Dropout: 0.4f), 3, 5, [5, 3, 4], LossKind.Mse),
        ["dropout bidirectional"] = (new RnnConfig(2, 3, 2, Activation.Tanh, 2, Bidirectional: true, Dropout: 0.3f), 2, 4, [4, 2], LossKind.Mse),
        ["no head, lengths"] = (new RnnConfig(2, 4, 2, Activation.Tanh, 0), 3, 4, [1, 4, 2], LossKind.Mse),
        ["lstm 2 layers, lengths, ce"] = (new RnnConfig(3, 4, 2, OutputSize: 3, Cell: CellKind.Lstm), 3, 5, [5, 2, 4], LossKind.CrossEntropy),
        ["lstm projection, bidirectional 2 layers, dropout, lengths"] = (new RnnConfig(3, 5, 2, OutputSize: 2, Bidirectional: true, Dropout: 0.3f,
            Cell: CellKind.Lstm, ProjSize: 3), 3, 4, [4, 1, 3], LossKind.Mse),
        ["lstm many-to-one, bidirectional, lengths"] = (new RnnConfig(2, 4, 1, OutputSize: 3, Bidirectional: true, HeadInput: HeadInput.FinalState,
            Cell: CellKind.Lstm), 4, 4, [2, 4, 1, 3], LossKind.CrossEntropy),
        ["lstm no head"] = (new RnnConfig(2, 3, 1, Cell: CellKind.Lstm, ProjSize: 2), 2, 4, null, LossKind.Mse),
        ["gru bidirectional 2 layers, lengths, bce"] = (new RnnConfig(3, 4, 2, OutputSize: 2, Bidirectional: true, Cell: CellKind.Gru), 3, 5,
            [3, 5, 2], LossKind.BinaryCrossEntropy),
        // Hidden sizes of whole 16- and 32-unit blocks, more rows than a tile: the CPU's blocked gated recurrence, edge tiles
        // included (the projection of 16 on AVX2 only; GatedRecurrenceTests has one of 32).
        ["lstm blocked, lengths"] = (new RnnConfig(2, 32, 1, OutputSize: 2, Cell: CellKind.Lstm), 9, 3, [3, 1, 2, 3, 3, 2, 1, 3, 2], LossKind.Mse),
        ["lstm projection blocked, bidirectional, lengths"] = (new RnnConfig(2, 32, 1, OutputSize: 2, Bidirectional: true, Cell: CellKind.Lstm,
            ProjSize: 16), 9, 3, [3, 2, 3, 1, 3, 2, 2, 1, 3], LossKind.Mse),
        ["gru blocked, bidirectional, lengths"] = (new RnnConfig(2, 32, 1, OutputSize: 2, Bidirectional: true, Cell: CellKind.Gru), 9, 3,
            [2, 3, 1, 3, 2, 3, 3, 1, 2], LossKind.Mse),
        ["gru dropout 3 layers, many-to-one"] = (new RnnConfig(2, 4, 3, OutputSize: 2, Dropout: 0.4f, HeadInput: HeadInput.FinalState,
            Cell: CellKind.Gru), 3, 4, [4, 2, 3], LossKind.Mse),
    };

    public static IEnumerable<object[]> FeatureCases() =>
        from backend in TestBackends.Names from name in Features.Keys select new object[] { backend, name };

    [Theory]
    [MemberData(nameof(FeatureCases))]
    public void Sequence_feature_gradients_match_finite_differences(string backend, string name)
    {
        var (config, batch, time, lengths, loss) = Features[name];
        using var acc = TestBackends.Open(backend);
        using var model = RnnModel.Create(config, acc, seed: 5);
        var rng = new Random(11);
        var x = new Tensor(Numerics.Random(rng, batch * time * config.InputSize), batch, time, config.InputSize);
        int groups = config.NumLayers * config.Directions, size = config.StateSize, hidden = config.HiddenSize;
        var h0 = new Tensor(Numerics.Random(rng, groups * batch * size, 0.5f), groups, batch, size);
        var c0 = config.HasCellState ? new Tensor(Numerics.Random(rng, groups * batch * hidden, 0.5f), groups, batch, hidden) : null;
        var target = config.ManyToOne
            ? (loss == LossKind.CrossEntropy
                ? new Tensor(Enumerable.Range(0, batch).Select(_ => (float)rng.Next(config.OutputWidth)).ToArray(), batch)
                : new Tensor(Numerics.Random(rng, batch * config.OutputWidth), batch, config.OutputWidth))
            : MakeTarget(rng, loss, batch, time, config.OutputWidth);
        // A decoder's gradient arriving at the final states, on top of the loss.
        var dFinal = new Tensor(Numerics.Random(rng, groups * batch * size, 0.1f), groups, batch, size);
        var dFinalCell = config.HasCellState ? new Tensor(Numerics.Random(rng, groups * batch * hidden, 0.1f), groups, batch, hidden) : null;

        const int maskSeed = 99;
        DropoutMasks? dropout = config.Dropout > 0 ? new DropoutMasks(config.Dropout, maskSeed) : null;
        var result = model.ComputeGradients(x, target, loss, h0, lengths, dropout, dFinal, c0, dFinalCell);

        // The reference draws the same masks in the same order (layer by layer, forward direction first), unpacked to [B, T, H].
        var layout = StepLayout.ForLengths(batch, time, lengths);
        Func<int, int, float[]>? masks = null;
        if (config.Dropout > 0)
        {
            var source = new DropoutMasks(config.Dropout, maskSeed);
            var drawn = new Dictionary<(int, int), float[]>();
            for (int l = 0; l < config.NumLayers - 1; l++)
            for (int d = 0; d < config.Directions; d++)
                drawn[(l, d)] = layout.Unpack(source.Next(layout.Rows * size), size);
            masks = (l, d) => drawn[(l, d)];
        }
        var reference = ReferenceRnn.FromModel(model);
        double[] xd = Numerics.ToDouble(x), h0d = Numerics.ToDouble(h0), td = Numerics.ToDouble(target), gd = Numerics.ToDouble(dFinal);
        double[]? c0d = c0 is null ? null : Numerics.ToDouble(c0), gcd = dFinalCell is null ? null : Numerics.ToDouble(dFinalCell);
        // L' = L + <dFinal, h_final> (+ <dFinalCell, c_final>): its gradient is the engine's with the injected final-state gradients.
        double Loss()
        {
            double value = reference.Loss(xd, h0d, td, loss, batch, time, lengths, masks, c0d);
            var (_, final, finalCell) = reference.Run(xd, h0d, c0d, batch, time, lengths, masks);
            for (int i = 0; i < final.Length; i++) value += gd[i] * final[i];
            for (int i = 0; i < finalCell.Length; i++) value += gcd![i] * finalCell[i];
            return value;
        }
        double plain = reference.Loss(xd, h0d, td, loss, batch, time, lengths, masks, c0d);
        Assert.InRange(result.Loss, plain - 1e-5 * Math.Abs(plain) - 1e-7, plain + 1e-5 * Math.Abs(plain) + 1e-7);

        foreach (var (param, values) in reference.Parameters)
            Numerics.AssertClose(Numerics.FiniteDifferences(values, Loss), result.Parameters[param].Data, 1e-3, 2e-5, $"d{param}");
        var dx = Numerics.FiniteDifferences(xd, Loss);
        Numerics.AssertClose(dx, result.Input.Data, 1e-3, 2e-5, "dInput");
        Numerics.AssertClose(Numerics.FiniteDifferences(h0d, Loss), result.InitialState.Data, 1e-3, 2e-5, "dH0");
        if (c0d is not null) Numerics.AssertClose(Numerics.FiniteDifferences(c0d, Loss), result.InitialCell!.Data, 1e-3, 2e-5, "dC0");
        for (int b = 0; b < batch; b++)
        for (int t = layout.LengthOf(b); t < time; t++)
        for (int i = 0; i < config.InputSize; i++)
            Assert.Equal(0f, result.Input.Data[(b * time + t) * config.InputSize + i]);   // no gradient past the end
    }

    internal static Tensor MakeTarget(Random rng, LossKind loss, int batch, int time, int width) => loss switch
    {
        LossKind.CrossEntropy => new Tensor(Enumerable.Range(0, batch * time).Select(_ => (float)rng.Next(width)).ToArray(), batch, time),
        LossKind.BinaryCrossEntropy => new Tensor(Enumerable.Range(0, batch * time * width).Select(_ => (float)rng.NextDouble()).ToArray(), batch, time, width),
        _ => new Tensor(Numerics.Random(rng, batch * time * width), batch, time, width),
    };
}
