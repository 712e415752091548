using System.Diagnostics;
using RnnGpu.Serving;

namespace RnnGpu.LoadTest;

/// <summary>
/// The same load without HTTP: the clients call <see cref="RnnInference.PredictAsync"/> in-process, so the run
/// measures the engine and its batching alone. Each distinct request's single-request result (run first,
/// alone) is kept as the raw bits of its output and final state, and every response is compared with it.
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
        Task<Prediction> Predict(int i) => inference.PredictAsync(work.Inputs[i], work.Inputs[i].Length / o.Input, ct: cap.Token);
        var alone = new string[work.Inputs.Length];
        for (int i = 0; i < alone.Length; i++) alone[i] = Bits(await Predict(i));

        // Untimed first: every batch size and length bucket gets its buffers, as in a service that has run a while.
        await Clients.RunAsync(o.Clients, o.Warmup, n => Predict(n % alone.Length), cap.Token);
        batches.Reset();
        var latencies = new double[o.Requests];
        int mismatches = 0;
        long start = Stopwatch.GetTimestamp();
        try
        {
            await Clients.RunAsync(o.Clients, o.Requests, async n =>
            {
                int i = n % alone.Length;
                long sent = Stopwatch.GetTimestamp();
                var p = await Predict(i);
                latencies[n] = Stopwatch.GetElapsedTime(sent).TotalMilliseconds;
                if (Bits(p) != alone[i]) Interlocked.Increment(ref mismatches);
            }, cap.Token);
        }
        catch (OperationCanceledException) when (cap.IsCancellationRequested)
        {
            throw new TimeoutException($"run '{name}' did not finish {o.Warmup} + {o.Requests} requests within --cap-seconds {o.CapSeconds}");
        }
        double seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
        Array.Sort(latencies);
        return new RunResult(name, maxBatch, seconds, latencies, batches.Mean, mismatches, alone);
    }

    /// <summary>The output's and final state's float bits, as one comparable string.</summary>
    private static string Bits(Prediction p) =>
        Convert.ToHexString(System.Runtime.InteropServices.MemoryMarshal.AsBytes(p.Output.AsSpan())) + "/" +
        Convert.ToHexString(System.Runtime.InteropServices.MemoryMarshal.AsBytes(p.FinalState.AsSpan()));
}
