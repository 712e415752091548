using System.Diagnostics.Metrics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using RnnGpu.Accelerators;

namespace RnnGpu.Serving;

/// <summary>
/// Thread-safe inference for services: one model loaded once and shared; any number of callers at once;
/// concurrent requests coalesced into one forward pass of up to <see cref="RnnServingOptions.MaxBatch"/>
/// sequences of any lengths, waiting at most <see cref="RnnServingOptions.MaxWait"/>; hot swap of the
/// checkpoint. Every batch runs as a batch-invariant pass (<see cref="BatchInvariance"/>), so each
/// request gets the bits it would get alone, whatever it was batched with.
/// </summary>
public sealed partial class RnnInference : IDisposable
{
    private readonly Accelerator _accelerator;
    private readonly ModelHost _host;
    private readonly RequestQueue _queue;
    private readonly BatchExecutor[] _executors;
    private readonly ILogger _log;
    private int _disposed;

    public RnnInference(RnnServingOptions options, ILoggerFactory? loggers = null, IMeterFactory? meters = null)
    {
        options.Validate();
        Options = options;
        _log = (loggers ?? NullLoggerFactory.Instance).CreateLogger<RnnInference>();
        _accelerator = Backends.Open(options.Backend, threads: options.Threads > 0 ? options.Threads : null);
        try
        {
            var capabilities = _accelerator.Capabilities;
            int executors = !capabilities.ParallelCallers ? 1 : options.Executors > 0 ? options.Executors : capabilities.Threads;
            _host = new ModelHost(_accelerator, options.CheckpointPath, options.WeightsKind, executors, _log);
            _queue = new RequestQueue(options.MaxQueuedRequests);
            Metrics = new ServingMetrics(meters, () => _queue.Count);
            _executors = new BatchExecutor[executors];
            bool alone = capabilities.ParallelCallers && executors > 1;
            for (int i = 0; i < executors; i++) _executors[i] = new BatchExecutor(i, alone, _queue, _host, options, Metrics, _log);
            LogStarted(_log, executors, options.MaxBatch, options.MaxWait.TotalMilliseconds);
        }
        catch
        {
            _host?.Dispose();
            _accelerator.Dispose();
            throw;
        }
    }

    public RnnServingOptions Options { get; }

    /// <summary>The model now being served.</summary>
    public ServedModelInfo Model => _host.Current;

    internal ServingMetrics Metrics { get; }

    /// <summary>Requests waiting for an executor.</summary>
    internal int QueuedRequests => _queue.Count;

    /// <summary>
    /// Runs one sequence: input [steps, I] from initial state h [L * D, S], then for an LSTM c [L * D, H], in one array (zeros
    /// when null). Returns the outputs [steps, O] (or [O] many-to-one), the final state (h and an LSTM's c) and the version of
    /// the model that ran it.
    /// </summary>
    public async Task<Prediction> PredictAsync(float[] input, int steps, float[]? initialState = null, CancellationToken ct = default)
    {
        var config = Model.Config;
        RequestChecks.CheckSteps(steps, Options.MaxSequenceLength);
        var output = new float[RequestChecks.OutputLength(config, steps)];
        var final = new float[RequestChecks.StateLength(config)];
        long version = await PredictIntoAsync(input, steps, output, final, initialState, ct).ConfigureAwait(false);
        return Prediction.Of(config, output, steps, final, config.NumLayers * config.Directions, version);
    }

    /// <summary>
    /// <see cref="PredictAsync"/> into the caller's buffers, allocating nothing once warm: output
    /// [steps, O] (or [O] many-to-one), final state (h [L * D, S], then an LSTM's c [L * D, H]) or empty. Returns the model version.
    /// Cancelling withdraws a request that is still queued; one already running finishes. Throws
    /// <see cref="ShapeException"/> for bad input and <see cref="ServingOverloadedException"/> when the queue is full.
    /// </summary>
    public ValueTask<long> PredictIntoAsync(ReadOnlyMemory<float> input, int steps, Memory<float> output, Memory<float> finalState,
        ReadOnlyMemory<float> initialState = default, CancellationToken ct = default)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        if (ct.IsCancellationRequested) return ValueTask.FromCanceled<long>(ct);
        var config = Model.Config;
        RequestChecks.Check(config, Options.MaxSequenceLength, input.Span, steps, initialState.Span, output.Length, finalState.Length);
        var request = PendingRequest.Rent(config, input, steps, initialState, output, finalState);
        var task = request.AsValueTask();
        _queue.Add(request);
        request.WatchCancellation(_queue, ct);
        return task;
    }

    /// <summary>Reads <see cref="RnnServingOptions.CheckpointPath"/> again and serves it; requests in flight finish on the old model. On failure the old model keeps serving.</summary>
    public Task<ServedModelInfo> ReloadAsync(CancellationToken ct = default) => _host.ReloadAsync(ct);

    /// <summary>Stops taking requests, lets queued ones finish, then frees the model and the device.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        _queue.Close();
        foreach (var e in _executors) e.Join();
        _host.Dispose();
        Metrics.Dispose();
        _accelerator.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Inference started: {Executors} executors, batches of up to {MaxBatch} within {MaxWaitMs} ms")]
    private static partial void LogStarted(ILogger log, int executors, int maxBatch, double maxWaitMs);
}
