using System.Collections.Concurrent;
using RnnGpu.Model;

namespace RnnGpu.Serving;

/// <summary>
/// Live streams (a user, a sensor): each keeps its state [L, H] between calls and advances it a step or a
/// few steps at a time through <see cref="RnnInference"/>, batched with every other request. Stepping a
/// sequence in chunks gives what one request over the whole sequence gives. Thread-safe; calls on one
/// stream run one at a time, in order. Needs a unidirectional model.
/// </summary>
public sealed class RnnStreams
{
    private readonly RnnInference _inference;
    private readonly ConcurrentDictionary<string, StreamState> _streams = new();

    public RnnStreams(RnnInference inference)
    {
        _inference = inference;
        inference.Metrics.Streams = () => _streams.Count;
    }

    public int Count => _streams.Count;

    internal RnnInference Inference => _inference;

    /// <summary>A new stream with its state at zeros, as at the start of a sequence; returns its id.</summary>
    public string Create()
    {
        var config = _inference.Model.Config;
        if (config.Bidirectional)
            throw new ShapeException("a bidirectional model needs the whole sequence: streams take a unidirectional model");
        if (_streams.Count >= _inference.Options.MaxStreams)
            throw new ServingOverloadedException($"{_inference.Options.MaxStreams} streams are live: delete one first");
        string id = Guid.NewGuid().ToString("N");
        _streams[id] = new StreamState(config);
        return id;
    }

    /// <summary>Advances the stream by <paramref name="steps"/> steps of input [steps, I]; returns the outputs of those steps and the new state.</summary>
    public async Task<Prediction> StepAsync(string id, float[] input, int steps, CancellationToken ct = default)
    {
        var stream = Find(id);
        await stream.Gate.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            CheckFits(id, stream);
            var config = _inference.Model.Config;
            RequestChecks.CheckSteps(steps, _inference.Options.MaxSequenceLength);
            var output = new float[RequestChecks.OutputLength(config, steps)];
            // The state is read into the batch before the final state is written back: one array serves both.
            long version = await _inference.PredictIntoAsync(input, steps, output, stream.State, stream.State, ct).ConfigureAwait(false);
            return Prediction.Of(config, output, steps, (float[])stream.State.Clone(), config.NumLayers, version);
        }
        finally
        {
            stream.Gate.Release();
        }
    }

    /// <summary>The stream's state (h [L, S], then an LSTM's c [L, H]), to save it or move it elsewhere.</summary>
    public float[] GetState(string id)
    {
        var stream = Find(id);
        stream.Gate.Wait();
        try
        {
            CheckFits(id, stream);
            return (float[])stream.State.Clone();
        }
        finally
        {
            stream.Gate.Release();
        }
    }

    /// <summary>Replaces the stream's state (h [L, S], then an LSTM's c [L, H]) with a saved one.</summary>
    public void SetState(string id, float[] state)
    {
        var stream = Find(id);
        stream.Gate.Wait();
        try
        {
            CheckFits(id, stream);
            if (state.Length != stream.State.Length)
            {
                var config = _inference.Model.Config;
                throw new ShapeException(config.HasCellState
                    ? $"stream state has {state.Length} values, expected {RequestChecks.DescribeState(config, config.NumLayers, "layers")}"
                    : $"stream state has {state.Length} values, expected layers {config.NumLayers} x hidden {config.HiddenSize}");
            }
            RequestChecks.CheckFiniteState(_inference.Model.Config, state, "stream state");
            state.CopyTo(stream.State, 0);
        }
        finally
        {
            stream.Gate.Release();
        }
    }

    /// <summary>Forgets the stream; false when there is no such stream.</summary>
    public bool Delete(string id) => _streams.TryRemove(id, out _);

    private StreamState Find(string id) =>
        _streams.TryGetValue(id, out var stream) ? stream : throw new StreamNotFoundException(id);

    /// <summary>A hot swap to a model of another state shape leaves older streams unusable: say so rather than fail deep inside.</summary>
    private void CheckFits(string id, StreamState stream)
    {
        var config = _inference.Model.Config;
        if (!RequestChecks.SameStateLayout(stream.Config, config))
            throw new ShapeException($"stream '{id}' holds the state of a {Describe(stream.Config)}, but the served model is now a {Describe(config)}: create a new stream");
    }

    private static string Describe(RnnConfig c) =>
        $"{c.Cell.ToName()} of {c.NumLayers} layer(s), hidden {c.HiddenSize}" + (c.ProjSize > 0 ? $", projection {c.ProjSize}" : "");

    /// <summary>A stream's state (h, then an LSTM's c) for the model it was made for.</summary>
    private sealed class StreamState(RnnConfig config)
    {
        public RnnConfig Config { get; } = config;
        public float[] State { get; } = new float[RequestChecks.StateLength(config)];
        public SemaphoreSlim Gate { get; } = new(1, 1);
    }
}
