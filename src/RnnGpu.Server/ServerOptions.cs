namespace RnnGpu.Server;

/// <summary>Settings of the HTTP and gRPC layers themselves, bound from the configuration section "RnnServer".</summary>
public sealed class ServerOptions
{
    public const string Section = "RnnServer";

    /// <summary>Request bodies larger than this are refused with 413 (1 MiB holds about 80,000 floats as JSON).</summary>
    public long MaxRequestBodyBytes { get; set; } = 1 << 20;

    /// <summary>
    /// Where the gRPC interface listens (HTTP/2 without TLS needs an endpoint of its own); empty for none. The JSON API
    /// listens at "urls".
    /// </summary>
    public string GrpcUrl { get; set; } = "http://127.0.0.1:5089";
}
