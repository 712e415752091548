using System.Diagnostics.Metrics;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using RnnGpu.Serving;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers <see cref="RnnInference"/> and <see cref="RnnStreams"/> as singletons, with their options.</summary>
public static class RnnServingServiceCollectionExtensions
{
    /// <summary>Options bound from a configuration section (conventionally "RnnServing").</summary>
    public static IServiceCollection AddRnnServing(this IServiceCollection services, IConfiguration section)
    {
        services.Configure<RnnServingOptions>(section);
        return AddCore(services);
    }

    /// <summary>Options set in code.</summary>
    public static IServiceCollection AddRnnServing(this IServiceCollection services, Action<RnnServingOptions> configure)
    {
        services.Configure(configure);
        return AddCore(services);
    }

    private static IServiceCollection AddCore(IServiceCollection services)
    {
        services.TryAddSingleton(sp => new RnnInference(
            sp.GetRequiredService<IOptions<RnnServingOptions>>().Value, sp.GetService<ILoggerFactory>(), sp.GetService<IMeterFactory>()));
        services.TryAddSingleton<RnnStreams>();
        return services;
    }
}
