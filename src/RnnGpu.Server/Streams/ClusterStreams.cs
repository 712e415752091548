using RnnGpu.Orleans;
using RnnGpu.Serving;

namespace RnnGpu.Server.Streams;

/// <summary>
/// The cluster's streams: each id is an <see cref="IRnnStreamGrain"/>, living on one silo and stored in the cluster's grain
/// storage, so any server in front of the cluster serves any stream, and a stream outlives the silo that held it.
/// </summary>
public sealed class ClusterStreams(IGrainFactory grains, RnnInference inference) : IServedStreams
{
    public async Task<string> CreateAsync(CancellationToken ct)
    {
        string id = Guid.NewGuid().ToString("N");
        await Grain(id).Start();
        return id;
    }

    public async Task<StreamAdvance> StepAsync(string id, float[] input, int steps, string? stepKey, CancellationToken ct)
    {
        var step = await Grain(id).Advance(input, steps, stepKey);
        // The silos' model decides the width (a front may be a version behind): [steps, O], or [O] many-to-one.
        int[] shape = inference.Model.Config.ManyToOne || step.Output.Length % steps != 0 ? [step.Output.Length] : [steps, step.Output.Length / steps];
        return new StreamAdvance(step.Output, shape, step.ModelVersion);
    }

    public async Task<float[]> GetStateAsync(string id, CancellationToken ct) => (await Grain(id).GetState()).State;

    public Task SetStateAsync(string id, float[] state, CancellationToken ct) => Grain(id).SetState(state);

    public Task<bool> DeleteAsync(string id, CancellationToken ct) => Grain(id).Delete();

    private IRnnStreamGrain Grain(string id) => grains.GetGrain<IRnnStreamGrain>(id);
}
