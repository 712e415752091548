using System.Diagnostics.Metrics;

namespace RnnGpu.LoadTest;

/// <summary>The mean of the server's "rnngpu.batch.size" histogram, read in-process from the "RnnGpu.Serving" meter.</summary>
public sealed class BatchSizeListener : IDisposable
{
    private readonly MeterListener _listener = new();
    private long _count;
    private double _sum;

    public BatchSizeListener()
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == "RnnGpu.Serving" && instrument.Name == "rnngpu.batch.size") listener.EnableMeasurementEvents(instrument);
        };
        // The instrument's number type is the library's choice; accept each.
        _listener.SetMeasurementEventCallback<int>((_, v, _, _) => Add(v));
        _listener.SetMeasurementEventCallback<long>((_, v, _, _) => Add(v));
        _listener.SetMeasurementEventCallback<double>((_, v, _, _) => Add(v));
        _listener.Start();
    }

    /// <summary>The mean batch size since the last Reset, or null when no batch was recorded.</summary>
    public double? Mean
    {
        get
        {
            lock (_listener) return _count > 0 ? _sum / _count : null;
        }
    }

    public void Reset()
    {
        lock (_listener)
        {
            _count = 0;
            _sum = 0;
        }
    }

    private void Add(double v)
    {
        lock (_listener)
        {
            _count++;
            _sum += v;
        }
    }

    public void Dispose() => _listener.Dispose();
}
