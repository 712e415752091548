using RnnGpu.Model;
using RnnGpu.Tests.Support;

namespace RnnGpu.Tests.Model;

/// <summary>
/// LSTM and GRU streams: each step's output and state (h, then an LSTM's c) against the float64 reference cells run over
/// the whole prefix; with a head, against the model's whole-sequence pass; a saved state resumes where it left.
/// </summary>
public sealed class RnnStreamCellTests
{
    private static readonly RnnConfig[] Configs =
    [
        new(4, 6, 2, Cell: CellKind.Lstm, ProjSize: 3),
        new(5, 7, 2, Cell: CellKind.Gru),
        new(3, 9, 1, Cell: CellKind.Lstm),
    ];

    public static IEnumerable<TheoryDataRow<string, int>> BackendsAndConfigs() =>
        TestBackends.Names.SelectMany(b => Enumerable.Range(0, Configs.Length).Select(c => new TheoryDataRow<string, int>(b.Data, c)));

    private static double[] Prefix(float[] x, int batch, int time, int steps, int width)
    {
        var prefix = new double[batch * steps * width];
        for (int b = 0; b < batch; b++)
        for (int s = 0; s < steps; s++)
        for (int i = 0; i < width; i++)
            prefix[(b * steps + s) * width + i] = x[(b * time + s) * width + i];
        return prefix;
    }

    [Theory]
    [MemberData(nameof(BackendsAndConfigs))]
    public void Stepping_equals_the_reference_over_the_prefix(string backend, int configIndex)
    {
        var config = Configs[configIndex];
        using var acc = TestBackends.Open(backend);
        using var model = RnnModel.Create(config, acc, seed: 21 + configIndex);
        const int batch = 3, time = 7;
        var x = Numerics.Random(new Random(9), batch * time * config.InputSize);
        var reference = ReferenceRnn.FromModel(model);
        int s = config.StateSize, h = config.HiddenSize, layers = config.NumLayers;
        bool lstm = config.HasCellState;

        using var stream = model.CreateStream(batch);
        Assert.Equal(layers * batch * (s + (lstm ? h : 0)), stream.StateLength);
        var stepInput = new float[batch * config.InputSize];
        var stepOutput = new float[batch * s];
        for (int t = 0; t < time; t++)
        {
            for (int b = 0; b < batch; b++) Array.Copy(x, (b * time + t) * config.InputSize, stepInput, b * config.InputSize, config.InputSize);
            stream.Step(stepInput, stepOutput);
            var (output, hn, cn) = reference.Run(Prefix(x, batch, time, t + 1, config.InputSize), new double[layers * batch * s], null, batch, t + 1);
            var expected = new double[batch * s];
            for (int b = 0; b < batch; b++) Array.Copy(output, (b * (t + 1) + t) * s, expected, b * s, s);
            Numerics.AssertClose(expected, stepOutput, 1e-4, 1e-5, $"step {t} output");
            var state = new float[stream.StateLength];
            stream.GetState(state);
            Numerics.AssertClose(lstm ? hn.Concat(cn).ToArray() : hn, state, 1e-4, 1e-5, $"step {t} state");
        }
    }

    [Theory]
    [MemberData(nameof(TestBackendNames))]
    public void A_head_and_a_restored_state_match_the_whole_sequence(string backend)
    {
        var config = new RnnConfig(3, 5, 2, OutputSize: 2, Cell: CellKind.Lstm, ProjSize: 2);
        using var acc = TestBackends.Open(backend);
        using var model = RnnModel.Create(config, acc, seed: 4);
        const int batch = 2, time = 6;
        var x = Numerics.Random(new Random(3), batch * time * config.InputSize);
        var whole = model.Forward(new Tensor(x, batch, time, config.InputSize)).Output.Data;

        using var first = model.CreateStream(batch);
        using var second = model.CreateStream(batch);
        var input = new float[batch * config.InputSize];
        var output = new float[batch * 2];
        for (int t = 0; t < time; t++)
        {
            for (int b = 0; b < batch; b++) Array.Copy(x, (b * time + t) * config.InputSize, input, b * config.InputSize, config.InputSize);
            if (t == 3)
            {
                var saved = new float[first.StateLength];
                first.GetState(saved);
                second.SetState(saved);
            }
            first.Step(input, output);
            var expected = new float[batch * 2];
            for (int b = 0; b < batch; b++) Array.Copy(whole, (b * time + t) * 2, expected, b * 2, 2);
            Numerics.AssertClose(expected, output, 1e-5, 1e-6, $"step {t}");
            if (t >= 3)
            {
                var resumed = new float[batch * 2];
                second.Step(input, resumed);
                Assert.Equal(output, resumed);
            }
        }
    }

    public static TheoryData<string> TestBackendNames => TestBackends.Names;
}
