namespace RnnGpu.Server.Streams;

/// <summary>
/// The streams behind /v1/streams and the gRPC stream calls: this process's own (<see cref="LocalStreams"/>), or the cluster's
/// stream grains when the server fronts one (<see cref="ClusterStreams"/>). States are h [L, S] then an LSTM's c [L, H].
/// </summary>
public interface IServedStreams
{
    Task<string> CreateAsync(CancellationToken ct);

    /// <summary>
    /// Advances the stream by <paramref name="steps"/> steps of input [steps, I]. A <paramref name="stepKey"/> equal to the
    /// stream's last step's returns that step's result without applying it again.
    /// </summary>
    Task<StreamAdvance> StepAsync(string id, float[] input, int steps, string? stepKey, CancellationToken ct);

    Task<float[]> GetStateAsync(string id, CancellationToken ct);

    Task SetStateAsync(string id, float[] state, CancellationToken ct);

    /// <summary>False when there is no such stream.</summary>
    Task<bool> DeleteAsync(string id, CancellationToken ct);
}

/// <summary>A step's Output [steps, O] (or [O] many-to-one), its shape, and the version of the model that computed it.</summary>
public sealed record StreamAdvance(float[] Output, int[] OutputShape, long ModelVersion);
