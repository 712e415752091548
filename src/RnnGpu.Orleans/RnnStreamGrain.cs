using System.Runtime.InteropServices;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Placement;
using Orleans.Storage;
using RnnGpu.Model;
using RnnGpu.Serving;

namespace RnnGpu.Orleans;

/// <summary>
/// A stream as a grain (<see cref="IRnnStreamGrain"/>). Its steps run on its silo's one <see cref="RnnInference"/>, so the
/// steps of every stream on a silo are batched together, and each gets the bits it would get alone. The state is read from
/// grain storage (<see cref="StorageName"/>) on first use, checked, and written back after every change before the call
/// returns; a failed write leaves the stream as it was, and the grain rereads its state on the next call.
/// Placement is random, which spreads streams evenly over the silos.
/// </summary>
[RandomPlacement]
internal sealed class RnnStreamGrain(RnnInference inference, IServiceProvider services) : Grain, IRnnStreamGrain
{
    /// <summary>The grain storage the streams use: Redis in a deployment, memory in unit tests.</summary>
    public const string StorageName = "rnn-streams";
    private const string StateName = "stream";

    private readonly IGrainStorage _storage = services.GetRequiredKeyedService<IGrainStorage>(StorageName);
    private readonly GrainState<StoredStream> _stored = new(new StoredStream());
    private bool _loaded;

    private string Id => this.GetPrimaryKeyString();

    public async Task<StreamSnapshot> Start()
    {
        await Load();
        var model = inference.Model;
        var config = CheckUnidirectional(model.Config);
        await Store(StoredStream.For(config, new float[RequestChecks.StateLength(config)], model.Version, 0));
        return Snapshot();
    }

    public async Task<StreamStep> Advance(float[] input, int steps, string? stepKey = null)
    {
        var stored = await Existing();
        if (stepKey is not null && stepKey == stored.LastKey)
        {
            if (steps != stored.LastSteps || Hash(input) != stored.LastInputHash)
                throw new StreamGrainException(StreamProblem.StepKeyReused, $"stream '{Id}': step key '{stepKey}' was used for another input");
            return new StreamStep(stored.LastOutput!, (float[])stored.State.Clone(), stored.ModelVersion, stored.Position, Replayed: true, RuntimeIdentity);
        }
        var config = Fitting(stored);
        var output = new float[RequestChecks.OutputLength(config, Math.Max(steps, 0))];
        var state = new float[stored.State.Length];
        long version;
        try
        {
            version = await inference.PredictIntoAsync(input, steps, output, state, stored.State);
        }
        catch (ShapeException e)
        {
            throw new StreamGrainException(StreamProblem.BadInput, $"stream '{Id}': {e.Message}");
        }
        catch (ServingOverloadedException e)
        {
            throw new StreamGrainException(StreamProblem.Overloaded, $"stream '{Id}': {e.Message}");
        }
        var next = StoredStream.For(config, state, version, stored.Position + steps);
        if (stepKey is not null) (next.LastKey, next.LastInputHash, next.LastSteps, next.LastOutput) = (stepKey, Hash(input), steps, output);
        await Store(next);
        return new StreamStep(output, (float[])state.Clone(), version, next.Position, Replayed: false, RuntimeIdentity);
    }

    public async Task<StreamSnapshot> GetState()
    {
        var stored = await Existing();
        Fitting(stored);
        return Snapshot();
    }

    public async Task<StreamSnapshot> SetState(float[] state)
    {
        await Load();
        var model = inference.Model;
        var config = CheckUnidirectional(model.Config);
        int length = RequestChecks.StateLength(config);
        if (state is null || state.Length != length)
            throw new StreamGrainException(StreamProblem.BadInput,
                $"stream '{Id}': a state has {state?.Length ?? 0} values, expected {RequestChecks.DescribeState(config, config.NumLayers, "layers")}");
        try
        {
            RequestChecks.CheckFiniteState(config, state, "stream state");
        }
        catch (ShapeException e)
        {
            throw new StreamGrainException(StreamProblem.BadInput, $"stream '{Id}': {e.Message}");
        }
        long position = _stored.RecordExists ? _stored.State!.Position : 0;
        await Store(StoredStream.For(config, (float[])state.Clone(), model.Version, position));
        return Snapshot();
    }

    public async Task<bool> Delete()
    {
        try
        {
            await Load();
        }
        catch (StreamGrainException e) when (e.Problem == StreamProblem.CorruptState)
        {
            // A corrupt record is deleted all the same.
        }
        bool existed = _stored.RecordExists;
        try
        {
            await _storage.ClearStateAsync(StateName, this.GetGrainId(), _stored);
        }
        catch (Exception e) when (e is not StreamGrainException)
        {
            _loaded = false;
            throw new StreamGrainException(StreamProblem.StorageFailed, $"stream '{Id}': its state could not be deleted: {e.Message}");
        }
        _stored.State = new StoredStream();
        DeactivateOnIdle();
        return existed;
    }

    /// <summary>Reads the stored state once per activation, checked; a read that fails is retried by the next call.</summary>
    private async Task Load()
    {
        if (_loaded) return;
        try
        {
            await _storage.ReadStateAsync(StateName, this.GetGrainId(), _stored);
        }
        catch (Exception e)
        {
            throw new StreamGrainException(StreamProblem.CorruptState,
                $"stream '{Id}': its stored state could not be read ({e.GetType().Name}: {e.Message}): delete or restart the stream");
        }
        if (_stored.RecordExists && _stored.State?.Inconsistency() is { } why)
            throw new StreamGrainException(StreamProblem.CorruptState, $"stream '{Id}': its stored state is damaged: {why}: delete or restart the stream");
        _stored.State ??= new StoredStream();
        _loaded = true;
    }

    private async Task<StoredStream> Existing()
    {
        await Load();
        if (!_stored.RecordExists) throw new StreamGrainException(StreamProblem.NotFound, $"no stream '{Id}': start it first");
        return _stored.State!;
    }

    /// <summary>The served model's configuration, when the stored state is one of its states.</summary>
    private RnnConfig Fitting(StoredStream stored)
    {
        var config = CheckUnidirectional(inference.Model.Config);
        if (!stored.Fits(config))
            throw new StreamGrainException(StreamProblem.StateMismatch,
                $"stream '{Id}' holds the state of a {stored.Describe()} (model version {stored.ModelVersion}), but the served model is now a " +
                $"{config.Cell.ToName()} of {config.NumLayers} layer(s), hidden {config.HiddenSize}" + (config.ProjSize > 0 ? $", projection {config.ProjSize}" : "") +
                ": restart the stream");
        return config;
    }

    private RnnConfig CheckUnidirectional(RnnConfig config) => config.Bidirectional
        ? throw new StreamGrainException(StreamProblem.BadInput, "a bidirectional model needs the whole sequence: streams take a unidirectional model")
        : config;

    /// <summary>Writes <paramref name="next"/>; only once it is stored does the grain hold it.</summary>
    private async Task Store(StoredStream next)
    {
        var previous = _stored.State;
        _stored.State = next;
        try
        {
            await _storage.WriteStateAsync(StateName, this.GetGrainId(), _stored);
        }
        catch (Exception e)
        {
            // Whether the write reached the store is unknown: reread it on the next call.
            _stored.State = previous;
            _loaded = false;
            throw new StreamGrainException(StreamProblem.StorageFailed, $"stream '{Id}': its state could not be stored, so the call was not applied: {e.Message}");
        }
    }

    private StreamSnapshot Snapshot() => new((float[])_stored.State!.State.Clone(), _stored.State.ModelVersion, _stored.State.Position, RuntimeIdentity);

    /// <summary>FNV-1a over the input's bytes: the same on every silo (unlike string and HashCode hashes).</summary>
    private static ulong Hash(float[]? input)
    {
        ulong hash = 14695981039346656037UL;
        foreach (byte b in MemoryMarshal.AsBytes((input ?? []).AsSpan())) hash = (hash ^ b) * 1099511628211UL;
        return hash;
    }
}
