using System.Diagnostics;
using System.Globalization;
using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orleans.Hosting;
using RnnGpu.Orleans;
using RnnGpu.Serving;
using OrleansClusterOptions = Orleans.Configuration.ClusterOptions;

namespace RnnGpu.LoadTest;

/// <summary>
/// Stateful streams under load: <see cref="LoadOptions.Clients"/> streams, each advanced <see cref="LoadOptions.Chunks"/> times by
/// <see cref="LoadOptions.Chunk"/> steps by its own client, all at once. "local": the streams of one process (RnnStreams);
/// "cluster": stream grains on <see cref="LoadOptions.Silos"/> silos in this process (loopback), clustered and stored in the
/// Redis server at <see cref="LoadOptions.Redis"/>, called through an Orleans client. Every stream's outputs must equal, bit
/// for bit, one request over its whole sequence.
/// </summary>
public static class StreamLoad
{
    public sealed record Result(string Name, double Seconds, double[] LatenciesMs, int Mismatches)
    {
        public double CallsPerSecond => LatenciesMs.Length / Seconds;
        public double Percentile(double p) => LatenciesMs[(int)Math.Round(p * (LatenciesMs.Length - 1))];
    }

    private sealed record Streams(Func<string, Task> Start, Func<string, float[], int, Task<float[]>> Advance);

    public static async Task<Result> RunAsync(string transport, LoadOptions o, string checkpoint)
    {
        var serving = Serving(o, checkpoint);
        var rng = new Random(3);
        int steps = o.Chunks * o.Chunk;
        var inputs = Enumerable.Range(0, o.Clients).Select(_ => Enumerable.Range(0, steps * o.Input).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray()).ToArray();
        // The reference: each stream's whole sequence as one request.
        float[][] expected;
        using (var alone = new RnnInference(serving(new RnnServingOptions())))
            expected = await Task.WhenAll(inputs.Select(async x => (await alone.PredictAsync(x, steps)).Output));

        var hosts = new List<IHost>();
        try
        {
            Streams streams;
            if (transport == "local")
            {
                var inference = new RnnInference(serving(new RnnServingOptions()));
                var local = new RnnStreams(inference);
                var ids = new Dictionary<string, string>();
                streams = new Streams(
                    name => { lock (ids) ids[name] = local.Create(); return Task.CompletedTask; },
                    async (name, x, k) => { string id; lock (ids) id = ids[name]; return (await local.StepAsync(id, x, k)).Output; });
            }
            else
            {
                string clusterId = $"load-{Guid.NewGuid():N}";
                for (int s = 0; s < o.Silos; s++) hosts.Add(await StartAsync(Silo(o, serving, clusterId, s)));
                var client = await StartAsync(Client(o, clusterId));
                hosts.Add(client);
                var grains = client.Services.GetRequiredService<IClusterClient>();
                streams = new Streams(name => grains.GetGrain<IRnnStreamGrain>(name).Start(),
                    async (name, x, k) => (await grains.GetGrain<IRnnStreamGrain>(name).Advance(x, k)).Output);
            }
            return await MeasureAsync(transport == "local" ? "local streams (one process)" : $"cluster, {o.Silos} silo(s)", o, streams, inputs, expected);
        }
        finally
        {
            foreach (var host in Enumerable.Reverse(hosts))
            {
                await host.StopAsync();
                host.Dispose();
            }
        }
    }

    private static async Task<Result> MeasureAsync(string name, LoadOptions o, Streams streams, float[][] inputs, float[][] expected)
    {
        int width = expected[0].Length / (o.Chunks * o.Chunk);
        // Warm-up streams first (untimed), so every silo has compiled and sized its buffers.
        await Task.WhenAll(Enumerable.Range(0, o.Clients).Select(async c =>
        {
            string id = $"warm-{Guid.NewGuid():N}";
            await streams.Start(id);
            for (int j = 0; j < 3; j++) await streams.Advance(id, inputs[c][..(o.Chunk * o.Input)], o.Chunk);
        }));
        var latencies = new double[o.Clients * o.Chunks];
        int mismatches = 0;
        long start = Stopwatch.GetTimestamp();
        await Task.WhenAll(Enumerable.Range(0, o.Clients).Select(c => Task.Run(async () =>
        {
            string id = $"stream-{Guid.NewGuid():N}";
            await streams.Start(id);
            var outputs = new float[expected[c].Length];
            for (int j = 0; j < o.Chunks; j++)
            {
                long sent = Stopwatch.GetTimestamp();
                var y = await streams.Advance(id, inputs[c][(j * o.Chunk * o.Input)..((j + 1) * o.Chunk * o.Input)], o.Chunk);
                latencies[c * o.Chunks + j] = Stopwatch.GetElapsedTime(sent).TotalMilliseconds;
                y.CopyTo(outputs, j * o.Chunk * width);
            }
            if (!outputs.AsSpan().SequenceEqual(expected[c])) Interlocked.Increment(ref mismatches);
        })));
        double seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
        Array.Sort(latencies);
        return new Result(name, seconds, latencies, mismatches);
    }

    private static Func<RnnServingOptions, RnnServingOptions> Serving(LoadOptions o, string checkpoint) => s =>
    {
        s.CheckpointPath = checkpoint;
        s.Backend = o.Backend;
        s.MaxBatch = o.MaxBatch;
        s.MaxWait = TimeSpan.FromMicroseconds(o.MaxWaitUs);
        s.Executors = o.Executors;
        s.MaxStreams = Math.Max(s.MaxStreams, 4 * o.Clients);
        return s;
    };

    private static IHost Silo(LoadOptions o, Func<RnnServingOptions, RnnServingOptions> serving, string clusterId, int index) =>
        Host.CreateDefaultBuilder()
            .UseOrleans(silo => silo
                .AddRnnStreams(s => serving(s))
                .UseRedisClustering(o.Redis)
                .UseRedisStreamStorage(o.Redis)
                .Configure<OrleansClusterOptions>(c => (c.ClusterId, c.ServiceId) = (clusterId, clusterId))
                .ConfigureEndpoints(IPAddress.Loopback, 21111 + index, 31000 + index, listenOnAnyHostAddress: false))
            .ConfigureLogging(l => l.ClearProviders())
            .Build();

    private static IHost Client(LoadOptions o, string clusterId) =>
        Host.CreateDefaultBuilder()
            .UseOrleansClient(client => client
                .UseRedisClustering(o.Redis)
                .Configure<OrleansClusterOptions>(c => (c.ClusterId, c.ServiceId) = (clusterId, clusterId)))
            .ConfigureLogging(l => l.ClearProviders())
            .Build();

    private static async Task<IHost> StartAsync(IHost host)
    {
        await host.StartAsync();
        return host;
    }

    public static string Markdown(LoadOptions o, IReadOnlyList<Result> runs)
    {
        var c = CultureInfo.InvariantCulture;
        var w = new StringWriter(c);
        w.WriteLine("## RnnGpu stream load test");
        w.WriteLine();
        w.WriteLine($"- date: {DateTimeOffset.UtcNow:yyyy-MM-dd HH:mm} UTC");
        w.WriteLine($"- machine: {Environment.ProcessorCount} logical cores, {System.Runtime.InteropServices.RuntimeInformation.OSDescription}, {System.Runtime.InteropServices.RuntimeInformation.FrameworkDescription}");
        w.WriteLine($"- model: input {o.Input}, hidden {o.Hidden}, layers {o.Layers}, output {o.Output}, tanh; backend {o.Backend}; max batch {o.MaxBatch}, max wait {o.MaxWaitUs} µs");
        w.WriteLine($"- load: {o.Clients} streams at once, each advanced {o.Chunks} times by {o.Chunk} steps (one call each); silos, client and Redis ({o.Redis}) on loopback, silos and client in one process; the cluster stores every stream's state in Redis after every call");
        w.WriteLine();
        w.WriteLine("| streams | calls/s | steps/s | p50 ms | p99 ms | max ms | streams bit-equal to one whole-sequence request |");
        w.WriteLine("|---|---:|---:|---:|---:|---:|---|");
        foreach (var r in runs)
            w.WriteLine(string.Create(c, $"| {r.Name} | {r.CallsPerSecond:F0} | {r.CallsPerSecond * o.Chunk:F0} | {r.Percentile(0.5):F2} | {r.Percentile(0.99):F2} | {r.LatenciesMs[^1]:F2} | {(r.Mismatches == 0 ? $"all {o.Clients}" : $"**{r.Mismatches} differ**")} |"));
        return w.ToString();
    }
}
