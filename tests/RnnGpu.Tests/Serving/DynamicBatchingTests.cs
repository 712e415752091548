using RnnGpu.Accelerators;
using RnnGpu.Model;
using RnnGpu.Serving;
using RnnGpu.Tests.Support;

namespace RnnGpu.Tests.Serving;

/// <summary>
/// Concurrent requests coalesce into batches, and each gets the bits it gets when sent alone: checked
/// bit for bit against a service that never batches, and to rounding against the float64 reference.
/// </summary>
public sealed class DynamicBatchingTests
{
    private static readonly RnnConfig[] Configs =
    [
        new(5, 33, 2, Activation.Tanh, OutputSize: 3),
        new(4, 256, 1, Activation.Relu),                                            // the AVX-512 recurrence, on the team
        new(3, 20, 2, Activation.Tanh, OutputSize: 2, Bidirectional: true, HeadInput: HeadInput.FinalState),
        new(4, 12, 2, OutputSize: 3, Cell: CellKind.Lstm, ProjSize: 5),
        new(3, 21, 2, OutputSize: 2, Cell: CellKind.Lstm, Bidirectional: true),
        new(5, 17, 2, OutputSize: 3, Cell: CellKind.Gru),
    ];

    public static IEnumerable<TheoryDataRow<string, int, bool>> Cases() =>
        from b in TestBackends.Names
        from c in Enumerable.Range(0, Configs.Length)
        from sameLength in new[] { false, true }
        select new TheoryDataRow<string, int, bool>(b.Data, c, sameLength);

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Each_request_in_a_batch_gets_its_solo_result(string backend, int configIndex, bool sameLength)
    {
        var config = Configs[configIndex];
        using var models = new ServedModels();
        string path = models.Checkpoint(config, seed: 40 + configIndex);
        var rng = new Random(7 + configIndex);
        const int count = 8;
        var steps = Enumerable.Range(0, count).Select(_ => sameLength ? 12 : rng.Next(1, 41)).ToArray();
        var inputs = steps.Select(t => Numerics.Random(rng, t * config.InputSize)).ToArray();
        var states = Enumerable.Range(0, count).Select(i => i % 3 == 1 ? Numerics.Random(rng, RequestChecks.StateLength(config), 0.5f) : null).ToArray();

        var solo = new Prediction[count];
        using (var alone = ServedModels.Serve(path, backend, maxBatch: 1))
            for (int i = 0; i < count; i++) solo[i] = await alone.PredictAsync(inputs[i], steps[i], states[i], TestContext.Current.CancellationToken);

        var sizes = new List<int>();
        using var batched = ServedModels.Serve(path, backend, maxBatch: count, maxWaitMs: 500);
        using var listener = ServedModels.BatchSizes(batched, sizes);
        var pending = Enumerable.Range(0, count).Select(i => batched.PredictAsync(inputs[i], steps[i], states[i], TestContext.Current.CancellationToken)).ToArray();
        var together = await Task.WhenAll(pending);

        Assert.Contains(sizes, s => s > 1);
        for (int i = 0; i < count; i++)
        {
            Assert.Equal(solo[i].Output, together[i].Output);
            Assert.Equal(solo[i].FinalState, together[i].FinalState);
            Assert.Equal(solo[i].FinalCell, together[i].FinalCell);
            var (y, h) = ServedModels.Reference(path, inputs[i], steps[i], states[i]);
            Numerics.AssertClose(y, together[i].Output, 2e-4, 2e-5, $"request {i} output");
            Numerics.AssertClose(h, together[i].FinalState, 2e-4, 2e-5, $"request {i} final state");
        }
    }

    [Fact]
    public async Task Many_concurrent_callers_on_several_executors_each_get_their_solo_result()
    {
        var config = new RnnConfig(6, 48, 2, Activation.Tanh, OutputSize: 4);
        using var models = new ServedModels();
        string path = models.Checkpoint(config, seed: 3);
        var rng = new Random(3);
        const int count = 120;
        var steps = Enumerable.Range(0, count).Select(_ => rng.Next(1, 30)).ToArray();
        var inputs = steps.Select(t => Numerics.Random(rng, t * config.InputSize)).ToArray();

        var solo = new Prediction[count];
        using (var alone = ServedModels.Serve(path, maxBatch: 1))
            for (int i = 0; i < count; i++) solo[i] = await alone.PredictAsync(inputs[i], steps[i], ct: TestContext.Current.CancellationToken);

        var sizes = new List<int>();
        using var service = ServedModels.Serve(path, maxBatch: 16, maxWaitMs: 2, executors: 2);
        using var listener = ServedModels.BatchSizes(service, sizes);
        var results = new Prediction[count];
        await Parallel.ForAsync(0, count, new ParallelOptions { MaxDegreeOfParallelism = 24, CancellationToken = TestContext.Current.CancellationToken },
            async (i, ct) => results[i] = await service.PredictAsync(inputs[i], steps[i], ct: ct));

        for (int i = 0; i < count; i++)
        {
            Assert.Equal(solo[i].Output, results[i].Output);
            Assert.Equal(solo[i].FinalState, results[i].FinalState);
        }
        lock (sizes) Assert.Equal(count, sizes.Sum());
    }
}
