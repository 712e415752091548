using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using RnnGpu.Accelerators;
using RnnGpu.Model;
using RnnGpu.Serving;
using RnnGpu.Tests.Support;

namespace RnnGpu.Tests.Serving;

/// <summary>The inference API's contract: its errors, cancellation, back-pressure, and its DI registration.</summary>
public sealed class ServingApiTests
{
    private static readonly RnnConfig Config = new(4, 16, 2, Activation.Tanh, OutputSize: 3);

    [Fact]
    public async Task Bad_requests_fail_with_a_message_naming_the_problem()
    {
        using var models = new ServedModels();
        using var service = ServedModels.Serve(models.Checkpoint(Config, 1), maxSteps: 10);
        var ct = TestContext.Current.CancellationToken;
        async Task<string> Refused(float[] input, int steps, float[]? h0 = null) =>
            (await Assert.ThrowsAsync<ShapeException>(() => service.PredictAsync(input, steps, h0, ct))).Message;

        Assert.Contains("expected 3 steps x input size 4", await Refused(new float[11], 3));
        Assert.Contains("1 to 10", await Refused(new float[44], 11));
        Assert.Contains("1 to 10", await Refused([], 0));
        var nan = new float[8];
        nan[5] = float.NaN;
        Assert.Contains("non-finite value (NaN) at row 1, column 1", await Refused(nan, 2));
        Assert.Contains("initial state has 5 values", await Refused(new float[8], 2, new float[5]));
        var infinite = new float[32];
        infinite[17] = float.PositiveInfinity;
        Assert.Contains("initial state holds a non-finite value", await Refused(new float[8], 2, infinite));
    }

    [Fact]
    public async Task A_cancelled_request_is_withdrawn_and_the_others_still_run()
    {
        using var models = new ServedModels();
        var big = new RnnConfig(64, 512, 3, Activation.Tanh, OutputSize: 3);
        using var service = ServedModels.Serve(models.Checkpoint(big, 2), maxBatch: 1, maxSteps: 1024);
        var rng = new Random(1);
        var longInput = Numerics.Random(rng, 1024 * 64);
        var shortInput = Numerics.Random(rng, 2 * 64);
        var ct = TestContext.Current.CancellationToken;

        var first = service.PredictAsync(longInput, 1024, ct: ct);            // keeps the only executor busy
        using var cancel = new CancellationTokenSource();
        var second = service.PredictAsync(shortInput, 2, ct: cancel.Token);     // queued behind it
        cancel.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => second);
        Assert.Equal(1024 * 3, (await first).Output.Length);
        Assert.Equal(2 * 3, (await service.PredictAsync(shortInput, 2, ct: ct)).Output.Length);

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => service.PredictAsync(shortInput, 2, ct: new CancellationToken(true)));
    }

    [Fact]
    public async Task A_full_queue_refuses_at_once()
    {
        using var models = new ServedModels();
        var big = new RnnConfig(64, 512, 3, Activation.Tanh, OutputSize: 3);
        using var service = ServedModels.Serve(models.Checkpoint(big, 2), maxBatch: 1, maxSteps: 1024, maxQueued: 1);
        var rng = new Random(1);
        var longInput = Numerics.Random(rng, 1024 * 64);
        var ct = TestContext.Current.CancellationToken;
        var running = service.PredictAsync(longInput, 1024, ct: ct);
        await WaitUntil(() => service.QueuedRequests == 0, ct);                 // the executor took it
        var queued = service.PredictAsync(longInput, 1024, ct: ct);
        var refused = await Assert.ThrowsAsync<ServingOverloadedException>(() => service.PredictAsync(longInput, 1024, ct: ct));
        Assert.Contains("1 requests are already waiting", refused.Message);
        await Task.WhenAll(running, queued);
    }

    [Fact]
    public async Task Dependency_injection_binds_options_from_configuration_and_serves()
    {
        using var models = new ServedModels();
        string path = models.Checkpoint(Config, 4);
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["RnnServing:CheckpointPath"] = path,
            ["RnnServing:MaxBatch"] = "4",
            ["RnnServing:MaxWait"] = "00:00:00.002",
            ["RnnServing:MaxSequenceLength"] = "33",
        }).Build();
        var services = new ServiceCollection().AddLogging().AddMetrics().AddRnnServing(configuration.GetSection("RnnServing"));
        await using var provider = services.BuildServiceProvider();
        var inference = provider.GetRequiredService<RnnInference>();
        Assert.Equal(4, inference.Options.MaxBatch);
        Assert.Equal(TimeSpan.FromMilliseconds(2), inference.Options.MaxWait);
        Assert.Equal(33, inference.Options.MaxSequenceLength);
        Assert.Same(inference, provider.GetRequiredService<RnnStreams>().Inference);

        var input = Numerics.Random(new Random(4), 5 * 4);
        var result = await inference.PredictAsync(input, 5, ct: TestContext.Current.CancellationToken);
        var (y, h) = ServedModels.Reference(path, input, 5, null);
        Numerics.AssertClose(y, result.Output, 1e-4, 1e-5, "output");
        Numerics.AssertClose(h, result.FinalState, 1e-4, 1e-5, "final state");
        Assert.Equal(1, result.ModelVersion);
    }

    [Fact]
    public async Task Metrics_count_requests_batches_and_latency()
    {
        using var models = new ServedModels();
        using var service = ServedModels.Serve(models.Checkpoint(Config, 5), maxBatch: 4, maxWaitMs: 200);
        var totals = new Dictionary<string, (int Count, double Sum)>();
        using var listener = new System.Diagnostics.Metrics.MeterListener
        {
            InstrumentPublished = (instrument, l) => { if (ReferenceEquals(instrument.Meter, service.Metrics.Meter)) l.EnableMeasurementEvents(instrument); },
        };
        void Add(string name, double value)
        {
            lock (totals) totals[name] = totals.TryGetValue(name, out var t) ? (t.Count + 1, t.Sum + value) : (1, value);
        }
        listener.SetMeasurementEventCallback<long>((i, v, _, _) => Add(i.Name, v));
        listener.SetMeasurementEventCallback<int>((i, v, _, _) => Add(i.Name, v));
        listener.SetMeasurementEventCallback<double>((i, v, _, _) => Add(i.Name, v));
        listener.Start();

        var input = Numerics.Random(new Random(5), 3 * 4);
        var ct = TestContext.Current.CancellationToken;
        await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => service.PredictAsync(input, 3, ct: ct)));
        listener.RecordObservableInstruments();

        Assert.Equal((4, 4.0), totals["rnngpu.requests"]);
        Assert.Equal((1, 4.0), totals["rnngpu.batch.size"]);
        Assert.Equal(4, totals["rnngpu.request.duration"].Count);
        Assert.True(totals["rnngpu.request.duration"].Sum > 0);
        Assert.False(totals.ContainsKey("rnngpu.errors"));
        Assert.Equal(0, totals["rnngpu.queue.length"].Sum);
    }

    [Fact]
    public void A_service_without_a_checkpoint_path_says_so()
    {
        var e = Assert.Throws<ShapeException>(() => new RnnInference(new RnnServingOptions()));
        Assert.Contains("CheckpointPath is not set", e.Message);
        Assert.Throws<FileFormatException>(() => new RnnInference(new RnnServingOptions { CheckpointPath = "/nonexistent/model.safetensors" }));
    }

    private static async Task WaitUntil(Func<bool> condition, CancellationToken ct)
    {
        while (!condition()) await Task.Delay(1, ct);
    }
}
