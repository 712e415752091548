using System.Diagnostics;

namespace RnnGpu.Accelerators.Cpu;

/// <summary>
/// Whether jobs that could share the team run on it or alone, decided by measuring both. Which is faster depends on
/// what else the cores do: on a quiet machine two members are 1.4-1.9 times one, even where the host takes a vCPU
/// away for a millisecond several times a second; with another process spinning on one of the two cores, every
/// barrier waits for the member that shares it and the team is 1.6 times slower than one thread; a CPU quota or a
/// core with fewer cycles than the mask suggests falls somewhere between. No count of waits tells these apart as well
/// as the speed itself. So jobs report their work (flops) and time (<see cref="Report"/>); the team runs in its settled
/// mode and, after 100 ms of timed jobs, runs 100 ms of them in the other mode, which becomes the settled one when it
/// was 5% faster. The next probe comes 100 ms after a switch (a noisy probe may have misled it), and twice as late
/// after each probe that kept the choice, up to 2 s. Probing costs a few percent of the time: the price of noticing
/// that a neighbour started or stopped.
/// </summary>
internal static class TeamHealth
{
    private const double Margin = 1.05;
    private static readonly long FirstPeriod = Stopwatch.Frequency / 10, MaxPeriod = 2 * Stopwatch.Frequency, Probe = Stopwatch.Frequency / 10;

    private static readonly Lock Gate = new();
    private static bool _settledAlone;     // the mode jobs run in between probes
    private static int _aloneNow;          // 1 while jobs run alone (settled so, or probing it)
    private static bool _probing;
    private static long _period = FirstPeriod;   // settled time until the next probe
    private static long _ticks;            // timed jobs of the current phase (settled period or probe)
    private static double _flops;
    private static double _settledRate;    // flops per tick of the last settled period
    private static int _switches;

    /// <summary>How many members a job that wants <paramref name="wanted"/> gets now.</summary>
    public static int Members(int wanted) => wanted > 1 && Volatile.Read(ref _aloneNow) != 0 ? 1 : wanted;

    /// <summary>How often the settled mode changed since the process started (benchmarks report it).</summary>
    public static int Switches => Volatile.Read(ref _switches);

    /// <summary>Whether jobs now settle alone (between probes).</summary>
    public static bool SettledAlone => Volatile.Read(ref _aloneNow) != 0 && !_probing;

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
            if (_ticks < (_probing ? Probe : _period)) return;
            double rate = _flops / _ticks;
            if (!_probing)
            {
                _settledRate = rate;
                _probing = true;
                Volatile.Write(ref _aloneNow, _settledAlone ? 0 : 1);
            }
            else
            {
                // A switch is checked again soon (a noisy probe may have misled it); a choice that holds, ever more rarely.
                if (rate > _settledRate * Margin)
                {
                    _settledAlone = !_settledAlone;
                    _switches++;
                    _period = FirstPeriod;
                }
                else _period = Math.Min(2 * _period, MaxPeriod);
                _probing = false;
                Volatile.Write(ref _aloneNow, _settledAlone ? 1 : 0);
            }
            (_ticks, _flops) = (0, 0);
        }
    }

    /// <summary>For tests: back to the start, the team settled and no probe made yet.</summary>
    internal static void Forget()
    {
        lock (Gate)
        {
            (_settledAlone, _probing, _period, _ticks, _flops, _settledRate) = (false, false, FirstPeriod, 0, 0, 0);
            Volatile.Write(ref _aloneNow, 0);
        }
    }
}
