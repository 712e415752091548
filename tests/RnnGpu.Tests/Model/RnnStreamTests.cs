using RnnGpu.Accelerators;
using RnnGpu.Model;
using RnnGpu.Tests.Support;

namespace RnnGpu.Tests.Model;

/// <summary>Step-at-a-time streams against the float64 reference run over the whole sequence.</summary>
public sealed class RnnStreamTests
{
    public static TheoryData<string> Backends => TestBackends.Names;

    public static IEnumerable<TheoryDataRow<string, int>> BackendsAndConfigs() =>
        TestBackends.Names.SelectMany(b => Enumerable.Range(0, Configs.Length).Select(c => new TheoryDataRow<string, int>(b.Data, c)));

    private static readonly RnnConfig[] Configs =
    [
        new(5, 7),                                                          // no head: outputs are the states
        new(3, 33, 2, Activation.Relu, OutputSize: 4),                      // stacked, ReLU, head
        new(6, 17, 3, Activation.Tanh, OutputSize: 2, HeadInput: HeadInput.FinalState),
    ];

    [Theory]
    [MemberData(nameof(BackendsAndConfigs))]
    public void Stepping_equals_the_whole_sequence(string backend, int configIndex)
    {
        var config = Configs[configIndex];
        using var acc = TestBackends.Open(backend);
        using var model = RnnModel.Create(config, acc, seed: 11 + configIndex);
        const int batch = 3, time = 9;
        var rng = new Random(5);
        var x = Numerics.Random(rng, batch * time * config.InputSize);
        var reference = ReferenceRnn.FromModel(model);
        int o = config.OutputWidth, h = config.HiddenSize, inSize = config.InputSize;

        using var stream = model.CreateStream(batch);
        var stepInput = new float[batch * inSize];
        var stepOutput = new float[batch * o];
        for (int t = 0; t < time; t++)
        {
            for (int b = 0; b < batch; b++)
                Array.Copy(x, (b * time + t) * inSize, stepInput, b * inSize, inSize);
            stream.Step(stepInput, stepOutput);

            // The reference over the first t + 1 steps: its last output is this step's (a many-to-one
            // head reads the final state, which is the same thing).
            var prefix = new double[batch * (t + 1) * inSize];
            for (int b = 0; b < batch; b++)
            for (int s = 0; s <= t; s++)
            for (int i = 0; i < inSize; i++)
                prefix[(b * (t + 1) + s) * inSize + i] = x[(b * time + s) * inSize + i];
            var (output, final) = reference.Forward(prefix, new double[config.NumLayers * batch * h], batch, t + 1);
            var expected = new double[batch * o];
            for (int b = 0; b < batch; b++)
                Array.Copy(output, config.ManyToOne ? b * o : (b * (t + 1) + t) * o, expected, b * o, o);
            Numerics.AssertClose(expected, stepOutput, 1e-4, 1e-5, $"step {t} output");

            var state = new float[stream.StateLength];
            stream.GetState(state);
            Numerics.AssertClose(final, state, 1e-4, 1e-5, $"step {t} state");
        }
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public void A_restored_state_continues_where_it_left(string backend)
    {
        using var acc = TestBackends.Open(backend);
        using var model = RnnModel.Create(new RnnConfig(4, 9, 2, OutputSize: 3), acc, seed: 2);
        var rng = new Random(8);
        var steps = Enumerable.Range(0, 6).Select(_ => Numerics.Random(rng, 2 * 4)).ToArray();
        using var first = model.CreateStream(2);
        var output = new float[2 * 3];
        for (int t = 0; t < 3; t++) first.Step(steps[t], output);
        var saved = new float[first.StateLength];
        first.GetState(saved);

        using var second = model.CreateStream(2);
        second.SetState(saved);
        var resumed = new float[2 * 3];
        for (int t = 3; t < 6; t++)
        {
            first.Step(steps[t], output);
            second.Step(steps[t], resumed);
            Assert.Equal(output, resumed);
        }

        first.Reset();
        var fresh = new float[first.StateLength];
        first.GetState(fresh);
        Assert.All(fresh, v => Assert.Equal(0f, v));
    }


    [Fact]
    public void Bad_input_is_refused_by_name()
    {
        using var acc = RnnGpu.Accelerators.Backends.Open("cpu");
        using var model = RnnModel.Create(new RnnConfig(3, 4, OutputSize: 2), acc);
        using var stream = model.CreateStream(2);
        var y = new float[4];
        Assert.Contains("expected batch 2 x input 3", Assert.Throws<ShapeException>(() => stream.Step(new float[5], y)).Message);
        Assert.Contains("expected batch 2 x output 2", Assert.Throws<ShapeException>(() => stream.Step(new float[6], new float[3])).Message);
        var bad = new float[6];
        bad[4] = float.NaN;
        Assert.Contains("non-finite value (NaN) at flat index 4", Assert.Throws<ShapeException>(() => stream.Step(bad, y)).Message);
        Assert.Contains("expected layers 1 x batch 2 x hidden 4", Assert.Throws<ShapeException>(() => stream.SetState(new float[7])).Message);
        Assert.Contains("at least 1", Assert.Throws<ShapeException>(() => model.CreateStream(0)).Message);

        using var bidi = RnnModel.Create(new RnnConfig(3, 4, Bidirectional: true), acc);
        Assert.Contains("unidirectional", Assert.Throws<ShapeException>(() => bidi.CreateStream()).Message);
    }
}
