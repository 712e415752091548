namespace RnnGpu.Serving;

/// <summary>No live stream has this id: it was never made, was deleted, or the service restarted.</summary>
public sealed class StreamNotFoundException(string id) : RnnGpuException($"no stream '{id}': create one first")
{
    public string Id { get; } = id;
}

/// <summary>The service is at a limit (queued requests, live streams): try again later.</summary>
public sealed class ServingOverloadedException(string message) : RnnGpuException(message);
