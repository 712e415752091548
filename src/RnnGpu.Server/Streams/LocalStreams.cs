using RnnGpu.Serving;

namespace RnnGpu.Server.Streams;

/// <summary>The streams of this process (<see cref="RnnStreams"/>): their states live here and go with it.</summary>
public sealed class LocalStreams(RnnStreams streams) : IServedStreams
{
    public Task<string> CreateAsync(CancellationToken ct) => Task.FromResult(streams.Create());

    public async Task<StreamAdvance> StepAsync(string id, float[] input, int steps, string? stepKey, CancellationToken ct)
    {
        // Keys make retries safe where a step can be lost in flight between machines; here a retry would advance twice.
        if (stepKey is not null)
            throw new ShapeException("step keys need the cluster's streams (RnnCluster:Mode client or silo): this server keeps its streams itself");
        var p = await streams.StepAsync(id, input, steps, ct);
        return new StreamAdvance(p.Output, p.OutputShape, p.ModelVersion);
    }

    public Task<float[]> GetStateAsync(string id, CancellationToken ct) => Task.FromResult(streams.GetState(id));

    public Task SetStateAsync(string id, float[] state, CancellationToken ct)
    {
        streams.SetState(id, state);
        return Task.CompletedTask;
    }

    public Task<bool> DeleteAsync(string id, CancellationToken ct) => Task.FromResult(streams.Delete(id));
}
