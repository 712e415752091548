using System.Diagnostics;
using Spectre.Console;

namespace RnnGpu.Cli.Training;

/// <summary>
/// Shows a step loop's progress: a Spectre progress bar with the loss and characters per second on
/// a terminal, or a plain line every tenth of the run when stdout is redirected.
/// </summary>
internal sealed class TrainingProgress
{
    private readonly CliContext _context;
    private readonly int _total;
    private readonly long _charsPerStep;
    private readonly Stopwatch _clock = new();
    private double _recentLoss, _recentCount;

    public TrainingProgress(CliContext context, int totalSteps, long charsPerStep)
    {
        _context = context;
        _total = totalSteps;
        _charsPerStep = charsPerStep;
    }

    public TimeSpan Elapsed => _clock.Elapsed;

    /// <summary>Mean loss of the last reporting window (about the last tenth of the run).</summary>
    public double RecentLoss => _recentCount > 0 ? _recentLoss / _recentCount : double.NaN;

    public double CharsPerSecond(int steps) => steps * (double)_charsPerStep / Math.Max(_clock.Elapsed.TotalSeconds, 1e-9);

    /// <summary>Runs <paramref name="step"/> for steps 0 .. total-1; it returns the step's loss.</summary>
    public void Run(Func<int, double> step)
    {
        _clock.Restart();
        if (_context.IsTerminal) RunWithBar(step);
        else RunPlain(step);
        _clock.Stop();
    }

    private void RunPlain(Func<int, double> step)
    {
        int every = Math.Max(1, _total / 10);
        double sum = 0;
        int count = 0;
        for (int i = 0; i < _total; i++)
        {
            sum += step(i);
            count++;
            if ((i + 1) % every == 0 || i + 1 == _total)
            {
                (_recentLoss, _recentCount) = (sum, count);
                _context.Out.WriteLine(
                    $"step {i + 1,6}/{_total}  loss {sum / count:F4}  {CharsPerSecond(i + 1),9:N0} chars/s  {_clock.Elapsed.TotalSeconds,6:F1} s");
                _context.Out.Flush();
                (sum, count) = (0, 0);
            }
        }
    }

    private void RunWithBar(Func<int, double> step)
    {
        _context.Console.Progress()
            .AutoClear(false)
            .HideCompleted(false)
            .Columns(
                new TaskDescriptionColumn { Alignment = Justify.Left },
                new ProgressBarColumn(),
                new PercentageColumn(),
                new ElapsedTimeColumn(),
                new RemainingTimeColumn())
            .Start(ctx =>
            {
                var task = ctx.AddTask(Describe(0, double.NaN), maxValue: _total);
                double ema = double.NaN, windowSum = 0;
                int windowCount = 0, window = Math.Max(1, _total / 10);
                for (int i = 0; i < _total; i++)
                {
                    double loss = step(i);
                    ema = double.IsNaN(ema) ? loss : 0.95 * ema + 0.05 * loss;
                    windowSum += loss;
                    if (++windowCount == window || i + 1 == _total)
                    {
                        (_recentLoss, _recentCount) = (windowSum, windowCount);
                        (windowSum, windowCount) = (0, 0);
                    }
                    task.Description = Describe(i + 1, ema);
                    task.Increment(1);
                }
            });
    }

    private string Describe(int steps, double loss) =>
        Markup.Escape(double.IsNaN(loss)
            ? $"step {steps}/{_total}  loss  ...  "
            : $"step {steps}/{_total}  loss {loss:F3}  {CharsPerSecond(steps):N0} chars/s");
}
