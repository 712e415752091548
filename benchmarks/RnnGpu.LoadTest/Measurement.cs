using System.Diagnostics;

namespace RnnGpu.LoadTest;

/// <summary>
/// One run's measuring, whatever carries the requests: each distinct request answered alone first for its
/// reference, then <see cref="LoadOptions.Warmup"/> untimed requests at full concurrency (so every batch size
/// and length bucket has its buffers, as in a service that has run a while), then the timed ones, every
/// answer compared with its reference.
/// </summary>
public static class Measurement
{
    /// <param name="answer">Sends distinct request i and returns its answer in a form where equal means bit-equal.</param>
    public static async Task<RunResult> RunAsync(string transport, string name, int maxBatch, LoadOptions o, int distinct, Func<int, Task<string>> answer,
        BatchSizeListener batches, CancellationTokenSource cap)
    {
        var alone = new string[distinct];
        for (int i = 0; i < distinct; i++) alone[i] = await answer(i);
        var latencies = new double[o.Requests];
        int mismatches = 0;
        long start = 0;
        try
        {
            await Clients(o.Clients, o.Warmup, n => answer(n % distinct), cap.Token);
            batches.Reset();
            start = Stopwatch.GetTimestamp();
            await Clients(o.Clients, o.Requests, async n =>
            {
                int i = n % distinct;
                long sent = Stopwatch.GetTimestamp();
                string text = await answer(i);
                latencies[n] = Stopwatch.GetElapsedTime(sent).TotalMilliseconds;
                if (text != alone[i]) Interlocked.Increment(ref mismatches);
            }, cap.Token);
        }
        catch (OperationCanceledException) when (cap.IsCancellationRequested)
        {
            throw new TimeoutException($"run '{transport} {name}' did not finish {o.Warmup} + {o.Requests} requests within --cap-seconds {o.CapSeconds}");
        }
        double seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
        Array.Sort(latencies);
        return new RunResult(transport, name, maxBatch, seconds, latencies, batches.Mean, mismatches, alone);
    }

    /// <summary>C concurrent clients sharing a fixed number of requests: each takes the next request number until none is left.</summary>
    private static Task Clients(int clients, int requests, Func<int, Task> send, CancellationToken ct)
    {
        int next = -1;
        return Task.WhenAll(Enumerable.Range(0, clients).Select(_ => Task.Run(async () =>
        {
            for (int n; (n = Interlocked.Increment(ref next)) < requests;) await send(n);
        }, ct)));
    }
}
