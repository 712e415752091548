using System.Diagnostics;

namespace RnnGpu.Accelerators.Cpu;

/// <summary>
/// Whether jobs that could share the team run on it or alone, decided by measuring both. Which is faster depends on
/// what else the cores do: on a quiet machine two members are 1.4-1.9 times one, even where the host takes a vCPU
/// away for a millisecond several times a second; with another process spinning on one of the two cores, every
/// barrier waits for the member that shares it and the team is 1.6 times slower than one thread; a CPU quota or a
/// core with fewer cycles than the mask suggests falls somewhere between. No count of waits tells these apart as well
/// as the speed itself. So jobs report their work (flops) and time (<see cref="Report"/>), and the team runs in its
/// settled mode with a probe from time to time: 100 ms of timed jobs in the settled mode (before), 100 ms in the
/// other (the probe, cut short after 25 ms if it is 20% behind by then), 100 ms in the settled mode again (after). The
/// other mode becomes the settled one when the probe was 20% faster than the mean of before and after: a slow spell of
/// the host (this shared machine has them, hundreds of milliseconds long) in one window then seldom passes for a change
/// of mode, while a busy neighbour (60%) or a quota does. Not faster than both: beside a busy neighbour the window
/// after a probe of one thread finds the team fast for a while (the worker, back from blocking, gets the shared core
/// first, the scheduler's due to a thread that slept), close to one thread's speed while the window before was far
/// below it. The first probe starts with the first timed job; the
/// next starts 100 ms after a switch (a wrong switch is undone soon) and four times as late after each probe that kept
/// the choice (100 ms, 400 ms, 1.6 s), up to 2 s: a neighbour that starts or stops is noticed within seconds, for a
/// few percent of the time.
/// </summary>
internal static class TeamHealth
{
    private const double Margin = 1.2;
    private static readonly long FirstWait = 0, MaxWait = 2 * Stopwatch.Frequency, Window = Stopwatch.Frequency / 10;

    private enum Phase { Wait, Before, Probe, After }

    private static readonly Lock Gate = new();
    private static bool _settledAlone;     // the mode jobs run in outside probes
    private static int _aloneNow;          // 1 while jobs run alone (settled so, or probing it)
    private static Phase _phase = Phase.Before;
    private static long _wait = FirstWait; // settled time, unmeasured, before the next probe's before-window
    private static long _ticks;            // timed jobs of the current phase
    private static double _flops;
    private static double _beforeRate, _probeRate;   // flops per tick in those windows
    private static int _switches;

    /// <summary>How many members a job that wants <paramref name="wanted"/> gets now.</summary>
    public static int Members(int wanted) => wanted > 1 && Volatile.Read(ref _aloneNow) != 0 ? 1 : wanted;

    /// <summary>How often the settled mode changed since the process started (benchmarks report it).</summary>
    public static int Switches => Volatile.Read(ref _switches);

    /// <summary>Whether jobs now settle alone (outside probes).</summary>
    public static bool SettledAlone
    {
        get
        {
            lock (Gate) return _settledAlone;
        }
    }

    /// <summary>
    /// A job that wanted more than one member did <paramref name="flops"/> of work in <paramref name="ticks"/> on the
    /// members <see cref="Members"/> gave it.
    /// </summary>
    public static void Report(double flops, long ticks)
    {
        lock (Gate)
        {
            _ticks += ticks;
            _flops += flops;
            bool losing = _phase == Phase.Probe && _ticks >= Window / 4 && _flops / _ticks * Margin < _beforeRate;
            if (losing)
            {
                // A probe 20% behind after a quarter of its time is cut short: it is not going to win, and a team probed
                // beside a busy neighbour costs twice what running alone does.
                Volatile.Write(ref _aloneNow, _settledAlone ? 1 : 0);
                KeepChoice();
                (_ticks, _flops) = (0, 0);
                return;
            }
            if (_ticks < (_phase == Phase.Wait ? _wait : Window)) return;
            double rate = _flops / _ticks;
            switch (_phase)
            {
                case Phase.Wait:
                    _phase = Phase.Before;
                    break;
                case Phase.Before:
                    _beforeRate = rate;
                    _phase = Phase.Probe;
                    Volatile.Write(ref _aloneNow, _settledAlone ? 0 : 1);
                    break;
                case Phase.Probe:
                    _probeRate = rate;
                    _phase = Phase.After;
                    Volatile.Write(ref _aloneNow, _settledAlone ? 1 : 0);
                    break;
                case Phase.After:
                    if (_probeRate > (_beforeRate + rate) / 2 * Margin)
                    {
                        _settledAlone = !_settledAlone;
                        _switches++;
                        Volatile.Write(ref _aloneNow, _settledAlone ? 1 : 0);
                        (_wait, _phase) = (Window, Phase.Wait);
                    }
                    else KeepChoice();
                    break;
            }
            (_ticks, _flops) = (0, 0);
        }
    }

    /// <summary>A probe kept the settled mode: the next one comes four times as late (at least 100 ms, at most 2 s).</summary>
    private static void KeepChoice() => (_wait, _phase) = (Math.Clamp(4 * _wait, Window, MaxWait), Phase.Wait);

    /// <summary>For tests: back to the start, the team settled and no probe made yet.</summary>
    internal static void Forget()
    {
        lock (Gate)
        {
            (_settledAlone, _phase, _wait, _ticks, _flops, _beforeRate, _probeRate) = (false, Phase.Before, FirstWait, 0, 0, 0, 0);
            Volatile.Write(ref _aloneNow, 0);
        }
    }
}
