namespace RnnGpu.Server;

/// <summary>
/// Settings of the Orleans cluster the server's streams live in, bound from the configuration section "RnnCluster". With no
/// Mode the server keeps its streams itself. "client": the server is a front of a cluster of silos (RnnGpu.Orleans).
/// "silo": the server is also a silo of the cluster, its streams' grains batched on its own RnnInference.
/// Clustering and grain storage are the Redis server at <see cref="Redis"/>.
/// </summary>
public sealed class ClusterOptions
{
    public const string Section = "RnnCluster";

    /// <summary>"" (no cluster), "client" or "silo".</summary>
    public string Mode { get; set; } = "";

    /// <summary>A StackExchange.Redis connection string, e.g. "127.0.0.1:6379".</summary>
    public string Redis { get; set; } = "";

    public string ClusterId { get; set; } = "rnngpu";
    public string ServiceId { get; set; } = "rnngpu";

    /// <summary>A silo's address for the other silos and clients (loopback by default: give the pod's IP in a deployment).</summary>
    public string AdvertisedIp { get; set; } = "127.0.0.1";

    public int SiloPort { get; set; } = 11111;
    public int GatewayPort { get; set; } = 30000;

    public void Validate()
    {
        if (Mode is not ("" or "client" or "silo")) throw new RnnGpuException($"RnnCluster:Mode is '{Mode}': expected client, silo or nothing");
        if (Mode != "" && string.IsNullOrWhiteSpace(Redis)) throw new RnnGpuException($"RnnCluster:Mode {Mode} needs RnnCluster:Redis (a Redis connection string)");
        if (!System.Net.IPAddress.TryParse(AdvertisedIp, out _)) throw new RnnGpuException($"RnnCluster:AdvertisedIp '{AdvertisedIp}' is not an IP address");
    }
}
