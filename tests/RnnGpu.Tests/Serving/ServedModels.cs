using System.Diagnostics.Metrics;
using RnnGpu.Accelerators;
using RnnGpu.IO;
using RnnGpu.Model;
using RnnGpu.Serving;
using RnnGpu.Tests.IO;
using RnnGpu.Tests.Model;

namespace RnnGpu.Tests.Serving;

/// <summary>Checkpoints in a temp folder, services over them, and requests with their float64 reference.</summary>
internal sealed class ServedModels : IDisposable
{
    private readonly TempDirectory _dir = new();

    /// <summary>Saves a model of <paramref name="config"/> with seeded weights; returns its path.</summary>
    public string Checkpoint(RnnConfig config, int seed, string name = "model.safetensors")
    {
        using var acc = new RnnGpu.Accelerators.Cpu.CpuAccelerator();
        using var model = RnnModel.Create(config, acc, seed);
        string path = _dir.File(name);
        RnnGpu.IO.Checkpoint.Save(model, path);
        return path;
    }

    public static RnnInference Serve(string path, string backend = "cpu", int maxBatch = 8, double maxWaitMs = 1, int executors = 1,
        int maxSteps = 64, int maxQueued = 4096) =>
        new(new RnnServingOptions
        {
            CheckpointPath = path, Backend = backend, MaxBatch = maxBatch, MaxWait = TimeSpan.FromMilliseconds(maxWaitMs),
            Executors = executors, MaxSequenceLength = maxSteps, MaxQueuedRequests = maxQueued,
        });

    /// <summary>The float64 reference of one request: outputs [steps, O] (or [O]) and final state [L * D, H].</summary>
    public static (double[] Output, double[] FinalState) Reference(string path, float[] input, int steps, float[]? h0)
    {
        using var acc = new RnnGpu.Accelerators.Cpu.CpuAccelerator();
        using var model = RnnGpu.IO.Checkpoint.Load(path, acc);
        var reference = ReferenceRnn.FromModel(model);
        // A served state is h, then an LSTM's c: the reference takes them apart.
        var (h, c) = ServedState.Split(model.Config, h0 ?? new float[RequestChecks.StateLength(model.Config)]);
        var (output, finalState, _) = reference.Run(input.Select(v => (double)v).ToArray(), h.Select(v => (double)v).ToArray(), c?.Select(v => (double)v).ToArray(), 1, steps);
        return (output, finalState);
    }

    /// <summary>Records every batch size <paramref name="service"/> reports.</summary>
    public static MeterListener BatchSizes(RnnInference service, List<int> sizes)
    {
        var listener = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (ReferenceEquals(instrument.Meter, service.Metrics.Meter) && instrument.Name == "rnngpu.batch.size") l.EnableMeasurementEvents(instrument);
            },
        };
        listener.SetMeasurementEventCallback<int>((_, value, _, _) => { lock (sizes) sizes.Add(value); });
        listener.Start();
        return listener;
    }

    public void Dispose() => _dir.Dispose();
}
