using Microsoft.Extensions.DependencyInjection;
using Orleans.Runtime;
using Orleans.TestingHost;
using RnnGpu.Accelerators;
using RnnGpu.Accelerators.Cpu;
using RnnGpu.Model;
using RnnGpu.Orleans;
using RnnGpu.Serving;
using RnnGpu.Tests.Serving;
using RnnGpu.Tests.Support;

namespace RnnGpu.Tests.Orleans;

/// <summary>
/// Stream grains on a real cluster: three silos in this process (loopback), the states in a real Redis server. A stream
/// advanced in chunks, moved from silo to silo between them, gives bit for bit what one RnnStream gives; a stream whose
/// silo is killed continues from its stored state; many streams under concurrent load all match their single-stream
/// results; a retried step key does not advance a stream twice; bad input, a damaged stored state and a state of another
/// model's shape are refused with typed errors while the silos go on serving.
/// </summary>
public sealed class StreamGrainTests(RedisServer redis) : IClassFixture<RedisServer>, IDisposable
{
    private readonly ServedModels _models = new();

    public void Dispose() => _models.Dispose();

    private static readonly RnnConfig Lstm = new(4, 12, 2, OutputSize: 3, Cell: CellKind.Lstm, ProjSize: 5);
    private static readonly RnnConfig Gru = new(3, 10, 1, OutputSize: 2, Cell: CellKind.Gru);

    private CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>What one RnnStream of the library gives, step by step, in a batch-invariant pass as the service runs: outputs [T, O] and h then c.</summary>
    private static (float[] Output, float[] State) OneStream(string checkpoint, float[] x, int time)
    {
        using var acc = new CpuAccelerator();
        using var model = RnnGpu.IO.Checkpoint.Load(checkpoint, acc);
        using var invariant = BatchInvariance.Begin();
        using var stream = model.CreateStream();
        var c = model.Config;
        var output = new float[time * c.OutputWidth];
        for (int t = 0; t < time; t++) stream.Step(x.AsSpan(t * c.InputSize, c.InputSize), output.AsSpan(t * c.OutputWidth, c.OutputWidth));
        var state = new float[stream.StateLength];
        stream.GetState(state);
        return (output, state);
    }

    /// <summary>
    /// A started stream whose silo is not the primary one (which holds the test cluster's membership table, so it must stay):
    /// placement is random, so a few ids find one.
    /// </summary>
    private static async Task<(IRnnStreamGrain Grain, string Silo)> StartOffPrimaryAsync(TestCluster cluster, string prefix)
    {
        string primary = cluster.Primary!.SiloAddress.ToString();
        for (int i = 0; i < 100; i++)
        {
            var grain = cluster.Client.GetGrain<IRnnStreamGrain>($"{prefix}-{i}");
            string silo = (await grain.Start()).Silo;
            if (silo != primary) return (grain, silo);
        }
        throw new InvalidOperationException("every stream started on the primary silo");
    }

    private static SiloHandle Silo(TestCluster cluster, string address) => cluster.Silos.Single(s => s.SiloAddress.ToString() == address);

    [Fact]
    public async Task A_stream_moved_across_silos_between_chunks_gives_what_one_RnnStream_gives()
    {
        redis.Require();
        string checkpoint = _models.Checkpoint(Lstm, 3);
        await using var cluster = await StreamCluster.StartAsync(checkpoint, silos: 3, redis.ConnectionString);
        int[] chunks = [3, 1, 5, 2, 4];
        int total = chunks.Sum();
        var x = Numerics.Random(new Random(1), total * Lstm.InputSize);
        var (expectedOutput, expectedState) = OneStream(checkpoint, x, total);

        // After each chunk the silo that served it stops (a rolling restart) and a fresh one joins, unless it is the primary.
        var (grain, _) = await StartOffPrimaryAsync(cluster, "moving");
        string primary = cluster.Primary!.SiloAddress.ToString();
        var visited = new HashSet<string>();
        var outputs = new List<float>();
        int done = 0;
        StreamStep? last = null;
        foreach (int k in chunks)
        {
            last = await grain.Advance(x[(done * Lstm.InputSize)..((done + k) * Lstm.InputSize)], k);
            outputs.AddRange(last.Output);
            done += k;
            Assert.Equal(done, last.Position);
            visited.Add(last.Silo);
            if (last.Silo == primary) continue;
            await cluster.StopSiloAsync(Silo(cluster, last.Silo), Ct);
            await cluster.StartAdditionalSiloAsync();
        }
        Assert.True(visited.Count >= 2, "the stream stayed on one silo");
        Assert.Equal(expectedOutput, outputs);
        Assert.Equal(expectedState, last!.State);
        Assert.Equal(expectedState, (await grain.GetState()).State);
    }

    [Fact]
    public async Task Killing_the_silo_that_holds_a_stream_loses_no_acknowledged_step()
    {
        redis.Require();
        string checkpoint = _models.Checkpoint(Gru, 4);
        await using var cluster = await StreamCluster.StartAsync(checkpoint, silos: 3, redis.ConnectionString);
        var x = Numerics.Random(new Random(2), 9 * Gru.InputSize);
        var (expectedOutput, expectedState) = OneStream(checkpoint, x, 9);

        var (grain, host) = await StartOffPrimaryAsync(cluster, "survivor");
        var first = await grain.Advance(x[..(5 * Gru.InputSize)], 5, "step-1");
        Assert.Equal(host, first.Silo);
        await cluster.KillSiloAsync(Silo(cluster, host), Ct);

        // The client retries the next step with its key until a live silo takes it: it is applied once.
        var rest = x[(5 * Gru.InputSize)..];
        StreamStep? second = null;
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(90);
        while (second is null)
        {
            try
            {
                second = await grain.Advance(rest, 4, "step-2");
            }
            catch (Exception e) when (e is not StreamGrainException && DateTime.UtcNow < deadline)
            {
                await Task.Delay(250, Ct);
            }
        }
        var again = await grain.Advance(rest, 4, "step-2");
        Assert.True(again.Replayed);
        Assert.Equal(second.Output, again.Output);
        Assert.NotEqual(host, second.Silo);
        Assert.Equal(expectedOutput, first.Output.Concat(second.Output).ToArray());
        Assert.Equal(expectedState, second.State);
        Assert.Equal(9, (await grain.GetState()).Position);
    }

    [Fact]
    public async Task Many_streams_on_several_silos_under_concurrent_load_match_their_single_stream_results()
    {
        redis.Require();
        string checkpoint = _models.Checkpoint(Lstm, 5);
        await using var cluster = await StreamCluster.StartAsync(checkpoint, silos: 3, redis.ConnectionString);
        const int streams = 24, time = 8;
        var inputs = Enumerable.Range(0, streams).Select(i => Numerics.Random(new Random(100 + i), time * Lstm.InputSize)).ToArray();
        var results = await Task.WhenAll(Enumerable.Range(0, streams).Select(async i =>
        {
            var grain = cluster.Client.GetGrain<IRnnStreamGrain>($"load-{i}");
            await grain.Start();
            var outputs = new List<float>();
            StreamStep? step = null;
            for (int t = 0; t < time; t += 2)
            {
                step = await grain.Advance(inputs[i][(t * Lstm.InputSize)..((t + 2) * Lstm.InputSize)], 2);
                outputs.AddRange(step.Output);
            }
            return (Output: outputs.ToArray(), step!.State, Host: step.Silo);
        }));
        Assert.True(results.Select(r => r.Host).Distinct().Count() >= 2, "every stream landed on one silo");
        for (int i = 0; i < streams; i++)
        {
            var (output, state) = OneStream(checkpoint, inputs[i], time);
            Assert.Equal(output, results[i].Output);
            Assert.Equal(state, results[i].State);
        }
    }

    [Fact]
    public async Task Retried_keys_bad_input_and_damaged_or_foreign_states_are_refused_by_type_and_the_silos_go_on()
    {
        redis.Require();
        string checkpoint = _models.Checkpoint(Gru, 6);
        await using var cluster = await StreamCluster.StartAsync(checkpoint, silos: 2, redis.ConnectionString);
        var grain = cluster.Client.GetGrain<IRnnStreamGrain>("checked");
        var x = Numerics.Random(new Random(3), 2 * Gru.InputSize);
        Assert.Equal(StreamProblem.NotFound, (await Assert.ThrowsAsync<StreamGrainException>(() => grain.Advance(x, 2))).Problem);
        await grain.Start();

        // A retried key replays; the same key with another input is refused.
        var step = await grain.Advance(x, 2, "k");
        var replay = await grain.Advance(x, 2, "k");
        Assert.True(replay.Replayed);
        Assert.Equal(step.Output, replay.Output);
        Assert.Equal(2, (await grain.GetState()).Position);
        Assert.Equal(StreamProblem.StepKeyReused, (await Assert.ThrowsAsync<StreamGrainException>(() => grain.Advance(x.Reverse().ToArray(), 2, "k"))).Problem);

        // Bad input, and states of the wrong length or not finite.
        var bad = await Assert.ThrowsAsync<StreamGrainException>(() => grain.Advance(x[1..], 2));
        Assert.Equal(StreamProblem.BadInput, bad.Problem);
        Assert.Contains("input has 5 values", bad.Message);
        Assert.Equal(StreamProblem.BadInput, (await Assert.ThrowsAsync<StreamGrainException>(() => grain.SetState(new float[3]))).Problem);
        Assert.Equal(StreamProblem.BadInput, (await Assert.ThrowsAsync<StreamGrainException>(() => grain.SetState([.. new float[9], float.NaN]))).Problem);
        Assert.Equal(2, (await grain.GetState()).Position);

        // A damaged record in Redis: the stream says so (on its next activation), others are served, and it can be deleted.
        var other = cluster.Client.GetGrain<IRnnStreamGrain>("bystander");
        await other.Start();
        var key = redis.Server.Keys(pattern: "*checked*").Single();
        await DamageAsync(key);
        await cluster.Client.GetGrain<IManagementGrain>(0).DeactivateGrain(grain.GetGrainId(), Ct);
        var corrupt = await Assert.ThrowsAsync<StreamGrainException>(() => grain.Advance(x, 2));
        Assert.Equal(StreamProblem.CorruptState, corrupt.Problem);
        Assert.Contains("'checked'", corrupt.Message);
        Assert.Equal(2, (await other.Advance(x, 2)).Position);
        Assert.True(await grain.Delete());
        Assert.Equal(StreamProblem.NotFound, (await Assert.ThrowsAsync<StreamGrainException>(() => grain.GetState())).Problem);
        await grain.Start();
        Assert.Equal(2, (await grain.Advance(x, 2)).Position);
        Assert.Equal(2, cluster.GetActiveSilos().Count());

        // A hot swap to a model of another shape: the old states are refused until restarted.
        _models.Checkpoint(new RnnConfig(3, 7, 1, OutputSize: 2, Cell: CellKind.Gru), 7, Path.GetFileName(checkpoint));
        foreach (var silo in cluster.GetActiveSilos()) await cluster.GetSiloServiceProvider(silo.SiloAddress).GetRequiredService<RnnInference>().ReloadAsync(Ct);
        var foreign = await Assert.ThrowsAsync<StreamGrainException>(() => other.Advance(x, 2));
        Assert.Equal(StreamProblem.StateMismatch, foreign.Problem);
        Assert.Contains("hidden 10", foreign.Message);
        await other.Start();
        Assert.Equal(2, (await other.Advance(x, 2)).Position);
    }

    [Fact]
    public async Task With_memory_storage_a_stream_starts_steps_restores_and_deletes()
    {
        string checkpoint = _models.Checkpoint(Lstm, 8);
        await using var cluster = await StreamCluster.StartAsync(checkpoint, silos: 2);
        var x = Numerics.Random(new Random(4), 6 * Lstm.InputSize);
        var (expectedOutput, expectedState) = OneStream(checkpoint, x, 6);
        var grain = cluster.Client.GetGrain<IRnnStreamGrain>("in-memory");
        Assert.Equal(0, (await grain.Start()).Position);
        var half = await grain.Advance(x[..(3 * Lstm.InputSize)], 3);

        // A saved state set into another stream continues it exactly.
        var copy = cluster.Client.GetGrain<IRnnStreamGrain>("copy");
        await copy.SetState(half.State);
        var rest = await copy.Advance(x[(3 * Lstm.InputSize)..], 3);
        Assert.Equal(expectedOutput, half.Output.Concat(rest.Output).ToArray());
        Assert.Equal(expectedState, rest.State);

        Assert.True(await grain.Delete());
        Assert.False(await grain.Delete());
        Assert.Equal(StreamProblem.NotFound, (await Assert.ThrowsAsync<StreamGrainException>(() => grain.Advance(x[..Lstm.InputSize], 1))).Problem);
    }

    /// <summary>Overwrites the state Orleans stored under the key (its hash's "data", beside its "etag") with bytes that are no serialized state.</summary>
    private async Task DamageAsync(StackExchange.Redis.RedisKey key)
    {
        var db = redis.Database;
        Assert.Equal(StackExchange.Redis.RedisType.Hash, await db.KeyTypeAsync(key));
        Assert.True(await db.HashExistsAsync(key, "data"));
        await db.HashSetAsync(key, "data", new byte[] { 0xFF, 0x00, 0x13, 0x37, 0xFE, 0x01 });
    }
}
