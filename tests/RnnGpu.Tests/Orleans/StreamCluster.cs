using Microsoft.Extensions.Configuration;
using Orleans.Hosting;
using Orleans.TestingHost;
using RnnGpu.Orleans;

namespace RnnGpu.Tests.Orleans;

/// <summary>
/// A cluster of silos in this process (Orleans' TestingHost, loopback only), each serving stream grains over its own
/// RnnInference of one checkpoint, their states in Redis (when a connection string is given) or in Orleans' memory storage.
/// </summary>
internal static class StreamCluster
{
    private const string CheckpointKey = "RnnStreams:Checkpoint", RedisKey = "RnnStreams:Redis";

    public static async Task<TestCluster> StartAsync(string checkpoint, int silos, string? redis = null)
    {
        var builder = new TestClusterBuilder((short)silos);
        builder.Properties[CheckpointKey] = checkpoint;
        builder.Properties[RedisKey] = redis ?? "";
        builder.AddSiloBuilderConfigurator<Silo>();
        var cluster = builder.Build();
        await cluster.DeployAsync();
        return cluster;
    }

    private sealed class Silo : ISiloConfigurator
    {
        public void Configure(ISiloBuilder silo)
        {
            silo.AddRnnStreams(o =>
            {
                o.CheckpointPath = silo.Configuration[CheckpointKey]!;
                o.Backend = "cpu";
                o.MaxWait = TimeSpan.FromMilliseconds(1);
                o.MaxSequenceLength = 64;
            });
            if (silo.Configuration[RedisKey] is { Length: > 0 } redis) silo.UseRedisStreamStorage(redis);
            else silo.UseMemoryStreamStorage();
        }
    }
}
