using System.Diagnostics.Metrics;

namespace RnnGpu.Serving;

/// <summary>
/// The service's counters under the meter "RnnGpu.Serving": requests and errors, the size of every batch
/// run, each request's time from queueing to its result, and gauges of queued requests and live streams.
/// </summary>
internal sealed class ServingMetrics : IDisposable
{
    public const string MeterName = "RnnGpu.Serving";

    internal Meter Meter => _meter;

    private readonly Meter _meter;
    private readonly bool _ownsMeter;
    private readonly Counter<long> _requests, _errors;
    private readonly Histogram<int> _batchSize;
    private readonly Histogram<double> _duration;

    public ServingMetrics(IMeterFactory? factory, Func<int> queued)
    {
        _ownsMeter = factory is null;
        _meter = factory?.Create(MeterName) ?? new Meter(MeterName);
        _requests = _meter.CreateCounter<long>("rnngpu.requests", "{request}", "Requests answered, successful or not");
        _errors = _meter.CreateCounter<long>("rnngpu.errors", "{request}", "Requests that failed after being queued");
        _batchSize = _meter.CreateHistogram<int>("rnngpu.batch.size", "{request}", "Requests run together in one forward pass");
        _duration = _meter.CreateHistogram<double>("rnngpu.request.duration", "ms", "Time from queueing a request to its result");
        _meter.CreateObservableGauge("rnngpu.queue.length", queued, "{request}", "Requests waiting for an executor");
        _meter.CreateObservableGauge("rnngpu.streams", () => Streams(), "{stream}", "Live streams");
    }

    /// <summary>Reads the live stream count; set by <see cref="RnnStreams"/>.</summary>
    public Func<int> Streams { get; set; } = () => 0;

    public void Batch(int size) => _batchSize.Record(size);

    public void Request(double milliseconds, bool succeeded)
    {
        _requests.Add(1);
        _duration.Record(milliseconds);
        if (!succeeded) _errors.Add(1);
    }

    public void Dispose()
    {
        if (_ownsMeter) _meter.Dispose();   // a factory's meters are the factory's to dispose
    }
}
