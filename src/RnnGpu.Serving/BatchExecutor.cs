using System.Diagnostics;
using Microsoft.Extensions.Logging;
using RnnGpu.Accelerators;
using RnnGpu.Model;

namespace RnnGpu.Serving;

/// <summary>
/// A dedicated thread that takes batches from the queue and runs each as one forward pass on its own
/// view of the current model. Requests are sorted longest first, packed batch-first into host buffers
/// this executor keeps (grown, never shrunk: no allocation once warm) and run with each request's own
/// length; each then gets its rows back. The accelerator runs batch-invariant, so a request's bits do
/// not depend on what it was batched with.
/// </summary>
internal sealed partial class BatchExecutor
{
    private readonly int _index;
    private readonly bool _alone;
    private readonly RequestQueue _queue;
    private readonly ModelHost _host;
    private readonly RnnServingOptions _options;
    private readonly ServingMetrics _metrics;
    private readonly ILogger _log;
    private readonly PendingRequest[] _batch;
    private readonly int[][] _lengths;          // [n][n]: the lengths array for a batch of n
    private readonly StepLayout?[] _layouts;    // [n]: the last layout of a batch of n, reused while its lengths repeat
    private readonly Thread _thread;
    private float[] _input = [], _state = [], _output = [], _final = [];

    /// <param name="alone">Run every batch on this thread only: several CPU executors already keep every core busy.</param>
    public BatchExecutor(int index, bool alone, RequestQueue queue, ModelHost host, RnnServingOptions options, ServingMetrics metrics, ILogger log)
    {
        (_index, _alone, _queue, _host, _options, _metrics, _log) = (index, alone, queue, host, options, metrics, log);
        _batch = new PendingRequest[options.MaxBatch];
        _lengths = new int[options.MaxBatch + 1][];
        for (int n = 1; n <= options.MaxBatch; n++) _lengths[n] = new int[n];
        _layouts = new StepLayout?[options.MaxBatch + 1];
        _thread = new Thread(Loop) { IsBackground = true, Name = $"rnngpu-executor-{index}" };
        _thread.Start();
    }

    public void Join() => _thread.Join();

    private void Loop()
    {
        if (_alone) Accelerators.Cpu.CpuTeam.RunAloneOnThisThread();
        // Every batch is a batch-invariant pass, so each request gets the bits it gets alone; begun once for the
        // executor's life, since beginning one per batch would allocate.
        using var pass = BatchInvariance.Begin();
        while (true)
        {
            int n = _queue.TakeBatch(_batch, _options.MaxWait);
            if (n == 0) return;
            var generation = _host.Acquire();
            try
            {
                Run(generation, n);
            }
            finally
            {
                generation.Release();
                Array.Clear(_batch, 0, n);
            }
        }
    }

    private void Run(ModelGeneration generation, int n)
    {
        var config = generation.Config;
        // A request checked against other weights (a swap changed the model's shape meanwhile) fails alone.
        int kept = 0;
        for (int i = 0; i < n; i++)
        {
            var r = _batch[i];
            if (ReferenceEquals(r.Config, config) || RequestChecks.Fits(config, r)) _batch[kept++] = r;
            else Complete(r, new ShapeException($"the served model changed to {config} while the request waited; its shapes no longer fit: send it again"));
        }
        if (kept == 0) return;
        n = kept;
        SortLongestFirst(n);
        try
        {
            Forward(generation.View(_index), config, n);
        }
        catch (Exception e)
        {
            LogBatchFailed(_log, n, e);
            for (int i = 0; i < n; i++) Complete(_batch[i], e);
            return;
        }
        _metrics.Batch(n);
        for (int i = 0; i < n; i++) Complete(_batch[i], null, generation.Info.Version);
    }

    private void Forward(RnnModel view, RnnConfig config, int n)
    {
        int time = _batch[0].Steps, inSize = config.InputSize, groups = config.NumLayers * config.Directions;
        var lengths = _lengths[n];
        bool anyState = false;
        for (int i = 0; i < n; i++)
        {
            lengths[i] = _batch[i].Steps;
            anyState |= !_batch[i].InitialState.IsEmpty;
        }
        var input = Grown(ref _input, n * time * inSize);
        for (int i = 0; i < n; i++) _batch[i].Input.Span.CopyTo(input.Slice(i * time * inSize));
        Span<StatePart> parts = stackalloc StatePart[2];
        parts = parts[..StateParts(config, n, parts)];
        Span<float> state = default;
        if (anyState)
        {
            state = Grown(ref _state, n * RequestChecks.StateLength(config));
            for (int i = 0; i < n; i++)
            {
                var h0 = _batch[i].InitialState.Span;
                foreach (var part in parts)
                for (int g = 0; g < groups; g++)
                {
                    var row = state.Slice(part.BatchStart + (g * n + i) * part.Width, part.Width);
                    if (h0.IsEmpty) row.Clear();
                    else h0.Slice(part.RequestStart + g * part.Width, part.Width).CopyTo(row);
                }
            }
        }
        int width = config.ManyToOne ? config.OutputSize : time * config.OutputWidth;
        var output = Grown(ref _output, n * width);
        var final = Grown(ref _final, n * RequestChecks.StateLength(config));
        var layout = _layouts[n];
        if (layout is null || !layout.SortedLengths.AsSpan().SequenceEqual(lengths))
            _layouts[n] = layout = StepLayout.ForLengths(n, time, lengths);
        view.ForwardSorted(layout, LengthBucket(time), input, state, output, final);
        for (int i = 0; i < n; i++)
        {
            var r = _batch[i];
            var own = r.Output.Span;
            output.Slice(i * width, own.Length).CopyTo(own);
            var h = r.FinalState.Span;
            if (h.IsEmpty) continue;
            foreach (var part in parts)
            for (int g = 0; g < groups; g++)
                final.Slice(part.BatchStart + (g * n + i) * part.Width, part.Width).CopyTo(h.Slice(part.RequestStart + g * part.Width, part.Width));
        }
    }

    /// <summary>
    /// The parts of a state: h, then an LSTM's c. A request's holds each as [L * D, width] from RequestStart; a batch of n's,
    /// as ForwardSorted reads and writes it, as [L * D, n, width] from BatchStart.
    /// </summary>
    private static int StateParts(RnnConfig config, int n, Span<StatePart> parts)
    {
        int groups = config.NumLayers * config.Directions, s = config.StateSize;
        parts[0] = new StatePart(s, 0, 0);
        if (!config.HasCellState) return 1;
        parts[1] = new StatePart(config.HiddenSize, groups * s, groups * n * s);
        return 2;
    }

    private readonly record struct StatePart(int Width, int RequestStart, int BatchStart);

    /// <summary>Workspaces are kept per power-of-two length (capped at the limit), so nearby lengths share one.</summary>
    private int LengthBucket(int time) => Math.Min((int)System.Numerics.BitOperations.RoundUpToPowerOf2((uint)time), Math.Max(time, _options.MaxSequenceLength));

    /// <summary>Stable insertion sort by steps, longest first: the order the packed layout needs, so no row moves twice.</summary>
    private void SortLongestFirst(int n)
    {
        for (int i = 1; i < n; i++)
        {
            var r = _batch[i];
            int j = i - 1;
            for (; j >= 0 && _batch[j].Steps < r.Steps; j--) _batch[j + 1] = _batch[j];
            _batch[j + 1] = r;
        }
    }

    private void Complete(PendingRequest r, Exception? error, long version = 0)
    {
        double ms = Stopwatch.GetElapsedTime(r.EnqueuedAt).TotalMilliseconds;
        _metrics.Request(ms, error is null);
        if (error is null) r.Succeed(version);
        else r.Fail(error);
    }

    private static Span<float> Grown(ref float[] array, int length)
    {
        if (array.Length < length) array = new float[length];
        return array.AsSpan(0, length);
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "A batch of {Count} requests failed")]
    private static partial void LogBatchFailed(ILogger log, int count, Exception error);
}
