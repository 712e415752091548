using System.Diagnostics;

namespace RnnGpu.Accelerators.Cpu;

/// <summary>
/// Whether the team's members keep pace, and so how many a job gets. A member that waits a quarter of a millisecond
/// for another (<see cref="IsStall"/>) is waiting for one the OS took off its core. On a shared host that happens now
/// and then anyway (on the 2-core VM this was tuned on, a vCPU is taken away for 0.3-3 ms several times a second:
/// about 2% of the time), and the team is still far faster than one thread; when a core is contended (another
/// process's thread on it, a CPU quota spent, fewer cores than the affinity mask shows), members lose a large part
/// of their time to such waits, and one thread alone is faster. So the time lost to stalls is kept as a sum that
/// decays with a 100 ms time constant; past 30 ms (a third of the time lost) jobs run alone for a while (20 ms,
/// doubling while contention keeps coming back within 2 s, up to 1 s), then try the team again, going back to
/// running alone at 5 ms lost while that memory lasts.
/// </summary>
internal static class TeamHealth
{
    // A wait past 250 µs counts as a stall: uneven shares and cache misses cost microseconds, a member that lost its
    // core costs a time slice. (A step so long that members legitimately differ by more than that loses less than a
    // third of its time to it, which is no contention verdict.)
    private static readonly long MinStall = Stopwatch.Frequency / 4000;
    private static readonly double Decay = Stopwatch.Frequency / 10.0;              // time constant, ticks
    private static readonly double Contended = 0.3 * Stopwatch.Frequency / 10.0;    // lost ticks that mean contention
    private static readonly double StillContended = 0.05 * Stopwatch.Frequency / 10.0;   // the same within Memory of the last
    private static readonly long FirstBackoff = Stopwatch.Frequency / 50, MaxBackoff = Stopwatch.Frequency, Memory = 2 * Stopwatch.Frequency;

    private static readonly Lock Gate = new();
    private static double _lost;            // ticks lost to stalls, decayed
    private static long _lostAt;            // when _lost was last brought up to date
    private static long _aloneUntil;
    private static long _backoff = FirstBackoff;
    private static long _lastContention = long.MinValue / 2;

    /// <summary>How many members a job that wants <paramref name="wanted"/> gets now.</summary>
    public static int Members(int wanted) =>
        wanted > 1 && Stopwatch.GetTimestamp() < Volatile.Read(ref _aloneUntil) ? 1 : wanted;

    /// <summary>Whether a wait of <paramref name="waited"/> ticks for another member is a stall.</summary>
    public static bool IsStall(long waited) => waited > MinStall;

    /// <summary>
    /// A member stalled for <paramref name="waited"/> ticks. True when that makes the cores contended: the job in
    /// progress should go on alone.
    /// </summary>
    public static bool ReportStall(long waited)
    {
        lock (Gate)
        {
            long now = Stopwatch.GetTimestamp();
            _lost = _lost * Math.Exp(-(now - _lostAt) / Decay) + waited;
            _lostAt = now;
            bool recent = now - _lastContention < Memory;
            if (_lost < (recent ? StillContended : Contended)) return false;
            _backoff = recent ? Math.Min(2 * _backoff, MaxBackoff) : FirstBackoff;
            _lastContention = now;
            Volatile.Write(ref _aloneUntil, now + _backoff);
            return true;
        }
    }

    /// <summary>For tests: forgets every stall, so the next job gets the whole team.</summary>
    internal static void Forget()
    {
        lock (Gate)
        {
            _lost = 0;
            _backoff = FirstBackoff;
            _lastContention = long.MinValue / 2;
            Volatile.Write(ref _aloneUntil, 0);
        }
    }
}
