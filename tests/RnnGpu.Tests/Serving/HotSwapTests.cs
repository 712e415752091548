using RnnGpu.Accelerators;
using RnnGpu.Model;
using RnnGpu.Serving;
using RnnGpu.Tests.Support;

namespace RnnGpu.Tests.Serving;

/// <summary>A new checkpoint replaces the served model without failing requests or mixing weights within one.</summary>
public sealed class HotSwapTests
{
    private static readonly RnnConfig Config = new(4, 32, 2, Activation.Tanh, OutputSize: 2);

    [Fact]
    public async Task Requests_during_a_reload_each_get_the_old_or_the_new_models_result()
    {
        using var models = new ServedModels();
        string path = models.Checkpoint(Config, seed: 1);
        var x = Numerics.Random(new Random(1), 30 * 4);
        var ct = TestContext.Current.CancellationToken;
        using var service = ServedModels.Serve(path, maxBatch: 8, maxWaitMs: 1, executors: 2);
        var before = await service.PredictAsync(x, 30, ct: ct);

        models.Checkpoint(Config, seed: 2);                       // same path, new weights, written atomically
        var load = Enumerable.Range(0, 200).Select(_ => Task.Run(() => service.PredictAsync(x, 30, ct: ct), ct)).ToArray();
        var reloaded = await service.ReloadAsync(ct);
        var results = await Task.WhenAll(load);
        var after = await service.PredictAsync(x, 30, ct: ct);

        Assert.Equal(2, reloaded.Version);
        Assert.Equal(2, after.ModelVersion);
        Assert.NotEqual(before.Output, after.Output);
        var (y, _) = ServedModels.Reference(path, x, 30, null);
        Numerics.AssertClose(y, after.Output, 1e-4, 1e-5, "output after the reload");
        foreach (var r in results)
            Assert.Equal(r.ModelVersion == 1 ? before.Output : after.Output, r.Output);
    }

    [Fact]
    public async Task A_bad_checkpoint_is_refused_and_the_old_model_keeps_serving()
    {
        using var models = new ServedModels();
        string path = models.Checkpoint(Config, seed: 1);
        var x = Numerics.Random(new Random(1), 6 * 4);
        var ct = TestContext.Current.CancellationToken;
        using var service = ServedModels.Serve(path);
        var before = await service.PredictAsync(x, 6, ct: ct);

        File.WriteAllBytes(path, [1, 2, 3]);
        await Assert.ThrowsAsync<FileFormatException>(() => service.ReloadAsync(ct));
        var still = await service.PredictAsync(x, 6, ct: ct);
        Assert.Equal(1, still.ModelVersion);
        Assert.Equal(before.Output, still.Output);
    }

    [Fact]
    public async Task A_reload_to_another_shape_serves_the_new_shape_and_old_streams_say_they_no_longer_fit()
    {
        using var models = new ServedModels();
        string path = models.Checkpoint(Config, seed: 1);
        var ct = TestContext.Current.CancellationToken;
        using var service = ServedModels.Serve(path);
        var streams = new RnnStreams(service);
        string id = streams.Create();

        var wider = Config with { HiddenSize = 40, OutputSize = 5 };
        models.Checkpoint(wider, seed: 3);
        await service.ReloadAsync(ct);
        var result = await service.PredictAsync(new float[3 * 4], 3, ct: ct);
        Assert.Equal([3, 5], result.OutputShape);
        var e = await Assert.ThrowsAsync<ShapeException>(() => streams.StepAsync(id, new float[4], 1, ct));
        Assert.Contains("create a new stream", e.Message);
        Assert.Contains("create a new stream", Assert.Throws<ShapeException>(() => streams.GetState(id)).Message);
    }

    /// <summary>
    /// A state of the same length but another meaning (an Elman model of hidden 8 swapped for an LSTM of hidden 4: h then c,
    /// also 8 floats) is not taken for the new model's: the stream says it no longer fits.
    /// </summary>
    [Fact]
    public async Task A_reload_to_another_cell_with_a_state_of_the_same_length_is_refused_by_old_streams()
    {
        using var models = new ServedModels();
        var rnn = new RnnConfig(4, 8, 1, OutputSize: 2);
        string path = models.Checkpoint(rnn, seed: 1);
        var ct = TestContext.Current.CancellationToken;
        using var service = ServedModels.Serve(path);
        var streams = new RnnStreams(service);
        string id = streams.Create();
        Assert.Equal(8, streams.GetState(id).Length);

        models.Checkpoint(new RnnConfig(4, 4, 1, OutputSize: 2, Cell: CellKind.Lstm), seed: 2);
        await service.ReloadAsync(ct);
        var e = await Assert.ThrowsAsync<ShapeException>(() => streams.StepAsync(id, new float[4], 1, ct));
        Assert.Contains("holds the state of a rnn of 1 layer(s), hidden 8, but the served model is now a lstm", e.Message);
        string fresh = streams.Create();
        Assert.Equal(8, streams.GetState(fresh).Length);   // h [1, 4], then c [1, 4]
        await streams.StepAsync(fresh, new float[4], 1, ct);
    }
}
