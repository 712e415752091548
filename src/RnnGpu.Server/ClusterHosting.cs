using System.Net;
using OrleansClusterOptions = Orleans.Configuration.ClusterOptions;
using Orleans.Hosting;
using RnnGpu.Orleans;
using RnnGpu.Server.Streams;

namespace RnnGpu.Server;

/// <summary>Makes the server an Orleans client or a co-hosted silo of the cluster <see cref="ClusterOptions"/> names, its streams the cluster's.</summary>
internal static class ClusterHosting
{
    public static void Configure(WebApplicationBuilder builder, ClusterOptions cluster)
    {
        cluster.Validate();
        void Names(OrleansClusterOptions o) => (o.ClusterId, o.ServiceId) = (cluster.ClusterId, cluster.ServiceId);
        switch (cluster.Mode)
        {
            case "client":
                builder.UseOrleansClient(client => client.UseRedisClustering(cluster.Redis).Configure<OrleansClusterOptions>(Names));
                break;
            case "silo":
                // The silo's grains use the server's own RnnInference (registered by AddRnnServing): one model per process.
                builder.UseOrleans(silo => silo
                    .UseRedisClustering(cluster.Redis)
                    .UseRedisStreamStorage(cluster.Redis)
                    .Configure<OrleansClusterOptions>(Names)
                    .ConfigureEndpoints(IPAddress.Parse(cluster.AdvertisedIp), cluster.SiloPort, cluster.GatewayPort, listenOnAnyHostAddress: false));
                break;
            default:
                return;
        }
        builder.Services.AddSingleton<IServedStreams>(sp => new ClusterStreams(sp.GetRequiredService<IGrainFactory>(), sp.GetRequiredService<RnnGpu.Serving.RnnInference>()));
    }
}
