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
        return await Measurement.RunAsync(name, maxBatch, o, work.Inputs.Length,
            async i => Bits(await inference.PredictAsync(work.Inputs[i], work.Inputs[i].Length / o.Input, ct: cap.Token)), batches, cap);
    }

    /// <summary>The output's and final state's float bits, as one comparable string.</summary>
    private static string Bits(Prediction p) =>
        Convert.ToHexString(System.Runtime.InteropServices.MemoryMarshal.AsBytes(p.Output.AsSpan())) + "/" +
        Convert.ToHexString(System.Runtime.InteropServices.MemoryMarshal.AsBytes(p.FinalState.AsSpan()));
}
