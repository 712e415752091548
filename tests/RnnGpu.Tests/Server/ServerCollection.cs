namespace RnnGpu.Tests.Server;

/// <summary>
/// The server tests run on their own, after the parallel ones: each hosts services with a thread per core,
/// and tests elsewhere measure process-wide allocations and timings that such load would disturb.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ServerCollection
{
    public const string Name = "Server";
}
