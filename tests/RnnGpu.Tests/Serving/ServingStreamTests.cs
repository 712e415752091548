using RnnGpu.Accelerators;
using RnnGpu.Model;
using RnnGpu.Serving;
using RnnGpu.Tests.Support;

namespace RnnGpu.Tests.Serving;

/// <summary>Streams advanced a few steps at a time give what one request over the whole sequence gives, bit for bit.</summary>
public sealed class ServingStreamTests
{
    private static readonly RnnConfig[] Configs =
    [
        new(5, 24, 2, Activation.Tanh, OutputSize: 3),
        new(3, 17, 3, Activation.Relu, OutputSize: 2, HeadInput: HeadInput.FinalState),
        new(4, 9),
        new(3, 8, 2, OutputSize: 2, Cell: CellKind.Lstm, ProjSize: 5),
        new(4, 6, 2, OutputSize: 3, HeadInput: HeadInput.FinalState, Cell: CellKind.Gru),
    ];

    /// <summary>A result's whole state as streams hold it: h, then an LSTM's c.</summary>
    private static float[] State(Prediction p) => p.FinalCell is { } c ? [.. p.FinalState, .. c] : p.FinalState;

    public static IEnumerable<TheoryDataRow<int>> ConfigIndices() => Enumerable.Range(0, Configs.Length).Select(i => new TheoryDataRow<int>(i));

    [Theory]
    [MemberData(nameof(ConfigIndices))]
    public async Task Chunks_equal_the_whole_sequence_and_a_saved_state_continues_it(int configIndex)
    {
        var config = Configs[configIndex];
        using var models = new ServedModels();
        using var service = ServedModels.Serve(models.Checkpoint(config, 20 + configIndex), maxBatch: 8, maxWaitMs: 1, executors: 2);
        var streams = new RnnStreams(service);
        var ct = TestContext.Current.CancellationToken;
        int[] chunks = [1, 4, 2, 7, 1];
        int total = chunks.Sum(), inSize = config.InputSize;
        var x = Numerics.Random(new Random(configIndex), total * inSize);
        var whole = await service.PredictAsync(x, total, ct: ct);

        // Two streams over the same sequence, stepped concurrently so their chunks batch with each other.
        string a = streams.Create(), b = streams.Create();
        int done = 0;
        var outputs = new List<float>();
        foreach (int k in chunks)
        {
            var piece = x.AsSpan(done * inSize, k * inSize).ToArray();
            var both = await Task.WhenAll(streams.StepAsync(a, piece, k, ct), streams.StepAsync(b, piece, k, ct));
            Assert.Equal(both[0].Output, both[1].Output);
            outputs.AddRange(both[0].Output);
            done += k;
        }
        if (config.ManyToOne) Assert.Equal(whole.Output, outputs.TakeLast(config.OutputSize));
        else Assert.Equal(whole.Output, outputs);
        Assert.Equal(State(whole), streams.GetState(a));
        Assert.Equal(config.HasCellState, whole.FinalCell is not null);

        // A state saved halfway and restored into a new stream continues exactly.
        string c = streams.Create();
        var firstHalf = await service.PredictAsync(x[..(8 * inSize)], 8, ct: ct);
        streams.SetState(c, State(firstHalf));
        var rest = await streams.StepAsync(c, x[(8 * inSize)..], total - 8, ct);
        Assert.Equal(State(whole), State(rest));
        if (!config.ManyToOne) Assert.Equal(whole.Output.AsSpan(8 * config.OutputWidth).ToArray(), rest.Output);
        Assert.Equal(3, streams.Count);
    }

    [Fact]
    public async Task Unknown_streams_bad_states_and_bidirectional_models_are_refused()
    {
        using var models = new ServedModels();
        using var service = ServedModels.Serve(models.Checkpoint(Configs[0], 1));
        var streams = new RnnStreams(service);
        var ct = TestContext.Current.CancellationToken;
        Assert.Throws<StreamNotFoundException>(() => streams.GetState("nope"));
        await Assert.ThrowsAsync<StreamNotFoundException>(() => streams.StepAsync("nope", new float[5], 1, ct));
        string id = streams.Create();
        Assert.Contains("expected layers 2 x hidden 24", Assert.Throws<ShapeException>(() => streams.SetState(id, new float[47])).Message);
        var bad = new float[48];
        bad[3] = float.NaN;
        Assert.Contains("non-finite", Assert.Throws<ShapeException>(() => streams.SetState(id, bad)).Message);
        Assert.True(streams.Delete(id));
        Assert.False(streams.Delete(id));
        Assert.Throws<StreamNotFoundException>(() => streams.GetState(id));

        using var bidi = ServedModels.Serve(models.Checkpoint(new RnnConfig(2, 4, Bidirectional: true), 1, "bidi.safetensors"));
        Assert.Contains("unidirectional", Assert.Throws<ShapeException>(() => new RnnStreams(bidi).Create()).Message);
    }
}
