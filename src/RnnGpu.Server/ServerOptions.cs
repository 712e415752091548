namespace RnnGpu.Server;

/// <summary>Settings of the HTTP layer itself, bound from the configuration section "RnnServer".</summary>
public sealed class ServerOptions
{
    public const string Section = "RnnServer";

    /// <summary>Request bodies larger than this are refused with 413 (1 MiB holds about 80,000 floats as JSON).</summary>
    public long MaxRequestBodyBytes { get; set; } = 1 << 20;
}
