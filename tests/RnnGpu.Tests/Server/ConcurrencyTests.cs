using RnnGpu.Accelerators;
using RnnGpu.Model;
using RnnGpu.Tests.Support;

namespace RnnGpu.Tests.Server;

[Collection(ServerCollection.Name)]
public sealed class ConcurrencyTests
{
    [Fact]
    public async Task Concurrent_requests_each_equal_the_same_request_sent_alone()
    {
        var config = new RnnConfig(InputSize: 6, HiddenSize: 16, NumLayers: 2, Activation.Tanh, OutputSize: 4);
        await using var served = await ServedModel.StartAsync(config, seed: 9, configure: o => { o.MaxBatch = 16; o.MaxWait = TimeSpan.FromMilliseconds(2); });
        var rng = new Random(11);
        var inputs = Enumerable.Range(0, 40).Select(_ => Numerics.Random(rng, rng.Next(1, 25) * config.InputSize)).ToArray();
        var states = inputs.Select((_, i) => i % 2 == 0 ? null : Numerics.Random(rng, config.NumLayers * config.HiddenSize)).ToArray();
        var alone = new Served[inputs.Length];
        for (int i = 0; i < inputs.Length; i++) alone[i] = await served.PredictAsync(inputs[i], states[i]);

        const int clients = 16, requests = 200;
        int next = -1;
        var failures = new System.Collections.Concurrent.ConcurrentBag<string>();
        await Task.WhenAll(Enumerable.Range(0, clients).Select(_ => Task.Run(async () =>
        {
            for (int n; (n = Interlocked.Increment(ref next)) < requests;)
            {
                int i = n * 7 % inputs.Length;
                var r = await served.PredictAsync(inputs[i], states[i]);
                if (!r.Output.AsSpan().SequenceEqual(alone[i].Output) || !r.FinalState.AsSpan().SequenceEqual(alone[i].FinalState))
                    failures.Add($"request {n} (input {i}, {inputs[i].Length / config.InputSize} steps) differs from the same request sent alone");
            }
        }, ServedModel.Ct)));
        Assert.Empty(failures);
    }
}
