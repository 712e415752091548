using System.Diagnostics;

namespace RnnGpu.Cli.Training;

/// <summary>
/// Epochs over numeric data: every sequence once per epoch, in order, or shuffled with the seed when a
/// batch holds fewer than all of them; one step per batch; one `epoch N/M  loss L` line per epoch.
/// </summary>
internal static class EpochLoop
{
    /// <summary>Runs the epochs; <paramref name="step"/>(order, start, n) trains on sequences order[start .. start + n) and returns the loss.</summary>
    public static TimeSpan Run(CliContext ctx, int count, int batch, int epochs, int seed, Func<int[], int, int, double> step)
    {
        var order = Enumerable.Range(0, count).ToArray();
        var random = new Random(seed);
        var clock = Stopwatch.StartNew();
        for (int epoch = 1; epoch <= epochs; epoch++)
        {
            if (batch < count) random.Shuffle(order);
            double sum = 0;
            for (int start = 0; start < count; start += batch)
            {
                int n = Math.Min(batch, count - start);
                sum += step(order, start, n) * n;
            }
            ctx.Out.WriteLine($"epoch {epoch,4}/{epochs}  loss {sum / count:G6}");
        }
        ctx.Out.WriteLine($"trained {epochs} epochs in {clock.Elapsed.TotalSeconds:F2} s");
        return clock.Elapsed;
    }

    /// <summary>The batch size: --batch-size, all sequences by default, and never more than there are.</summary>
    public static int BatchSize(CliContext ctx, TrainSettings s, int count, string xPath)
    {
        int batch = s.BatchSize ?? count;
        if (batch > count)
        {
            ctx.Err.WriteLine($"note: --batch-size {batch} is more than the {count} sequences in {xPath}; using {count}");
            batch = count;
        }
        return batch;
    }
}
