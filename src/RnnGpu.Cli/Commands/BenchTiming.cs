using System.Diagnostics;

namespace RnnGpu.Cli.Commands;

/// <summary>
/// Times of the timed iterations (ms each) and the bytes this thread allocated over them, measured
/// with <see cref="GC.GetAllocatedBytesForCurrentThread"/> so that only the timed calls count.
/// </summary>
internal sealed record BenchTiming(double[] Ms, long AllocatedBytes)
{
    // Warm up for at least this long, whatever the count asked: .NET first runs a method as quickly jitted
    // code and swaps in the optimised one only after ~30 calls and a quiet spell, so a short warm-up times
    // the slow tier (a streaming step measured 22 µs after 1,000 calls and 4.4 µs in steady state).
    private static readonly TimeSpan MinWarmup = TimeSpan.FromSeconds(1);

    public static BenchTiming Run(int warmup, int iterations, Action run)
    {
        long warmupStart = Stopwatch.GetTimestamp();
        for (int i = 0; i < warmup || (warmup > 0 && Stopwatch.GetElapsedTime(warmupStart) < MinWarmup); i++) run();
        var ms = new double[iterations];
        long allocatedBefore = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < iterations; i++)
        {
            long start = Stopwatch.GetTimestamp();
            run();
            ms[i] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        }
        return new BenchTiming(ms, GC.GetAllocatedBytesForCurrentThread() - allocatedBefore);
    }

    public int Iterations => Ms.Length;

    public double Median
    {
        get
        {
            var sorted = Ms.Order().ToArray();
            int mid = sorted.Length / 2;
            return sorted.Length % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
        }
    }

    public double Min => Ms.Min();

    public double Max => Ms.Max();

    public double BytesPerIteration => (double)AllocatedBytes / Ms.Length;

    /// <summary>GFLOP/s at the median time: flops / (ms · 1e6).</summary>
    public double Gflops(double flops) => flops / (Median * 1e6);
}
