using Microsoft.Extensions.DependencyInjection;
using Orleans.Hosting;
using Orleans.Storage;
using RnnGpu.Serving;
using StackExchange.Redis;

namespace RnnGpu.Orleans;

/// <summary>Makes a silo host stream grains: one <see cref="RnnInference"/> per silo, and the grains' storage.</summary>
public static class RnnStreamsSiloBuilderExtensions
{
    /// <summary>The silo serves <see cref="IRnnStreamGrain"/>s over one <see cref="RnnInference"/> with these options.</summary>
    public static ISiloBuilder AddRnnStreams(this ISiloBuilder silo, Action<RnnServingOptions> configure)
    {
        silo.Services.AddRnnServing(configure);
        return silo;
    }

    /// <summary>Stream states in Redis (<paramref name="configuration"/>: a StackExchange.Redis connection string, e.g. "localhost:6379").</summary>
    public static ISiloBuilder UseRedisStreamStorage(this ISiloBuilder silo, string configuration) =>
        silo.AddRedisGrainStorage(RnnStreamGrain.StorageName, options => options.Configure<IGrainStorageSerializer>((o, serializer) =>
        {
            o.ConfigurationOptions = ConfigurationOptions.Parse(configuration);
            o.GrainStorageSerializer = new CheckedStreamSerializer(serializer);
        }));

    /// <summary>Stream states in Orleans' memory storage (unit tests: states live on the silos, and a silo that stops takes its share with it).</summary>
    public static ISiloBuilder UseMemoryStreamStorage(this ISiloBuilder silo) => silo.AddMemoryGrainStorage(RnnStreamGrain.StorageName);
}
