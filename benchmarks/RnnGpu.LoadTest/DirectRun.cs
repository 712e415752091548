using RnnGpu.Serving;

namespace RnnGpu.LoadTest;

/// <summary>
/// The same load without HTTP (<see cref="Measurement"/>): the clients call <see cref="RnnInference.PredictAsync"/>
/// in-process, so the run measures the engine and its batching alone. Answers are compared as the raw bits of
/// their output and final state.
/// </summary>
public static class DirectRun
{
    public static async Task<RunResult> RunAsync(string name, int maxBatch, LoadOptions o, string checkpoint, Workload work, BatchSizeListener batches)
    {
        using var inference = new RnnInference(new RnnServingOptions
        {
            CheckpointPath = checkpoint, Backend = o.Backend, MaxBatch = maxBatch, MaxWait = TimeSpan.FromMicroseconds(o.MaxWaitUs),
            Executors = o.Executors, MaxSequenceLength = Math.Max(1024, o.MaxSteps),
        });
        using var cap = new CancellationTokenSource(TimeSpan.FromSeconds(o.CapSeconds));
        return await Measurement.RunAsync("direct", name, maxBatch, o, work.Inputs.Length, async i =>
        {
            var p = await inference.PredictAsync(work.Inputs[i], work.Inputs[i].Length / o.Input, ct: cap.Token);
            return Bits.Of(p.Output, p.FinalState);
        }, batches, cap);
    }
}
