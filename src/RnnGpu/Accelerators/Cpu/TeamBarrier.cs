using System.Diagnostics;
using System.Runtime.CompilerServices;

namespace RnnGpu.Accelerators.Cpu;

/// <summary>
/// The barrier of a persistent <see cref="CpuTeam"/> job (a recurrence waits on it once per time step). Each phase
/// bumps a generation counter, so the barrier carries no state a member must know to reuse it. A member spins while
/// the wait is short and yields its core once it is long, so a member the OS has put on the same core can run. When
/// stalls (waits for a member that lost its core) have taken half the job's time, the team's part in the job ends:
/// from the next phase on only member 0 goes on, with every share, and the others leave. (Whether later jobs share
/// the team is <see cref="TeamHealth"/>'s measured choice.) Work must therefore split each phase by the member count
/// the barrier returns.
/// </summary>
internal sealed class TeamBarrier
{
    // A wait past 250 µs is a stall: uneven shares and cache misses cost microseconds, a member that lost its core a
    // time slice. A job that has lost half its time (and 20 ms) to stalls goes on alone.
    private static readonly long MinStall = Stopwatch.Frequency / 4000, MinLoss = Stopwatch.Frequency / 50;

    private int _arrived;
    private long _generation;
    private long _start;       // when the job started
    private long _stalls;      // ticks members waited in stalls
    private int _firstPhase;   // 1 until the job's first phase ends: a member just woken may start late, which is no stall
    private int _contended;    // stalls took half the job's time
    private int _alone;        // member 0 goes on alone

    /// <summary>Before a job: every member takes part.</summary>
    public void Reset()
    {
        _arrived = 0;
        _stalls = 0;
        _contended = 0;
        _alone = 0;
        _firstPhase = 1;
        _start = Stopwatch.GetTimestamp();
    }

    /// <summary>A member failed: every wait, now and later, returns at once with member 0 alone (see <see cref="ITeamWork.Abandon"/>).</summary>
    public void Break() => Volatile.Write(ref _alone, 1);

    /// <summary>
    /// Waits until the <paramref name="members"/> taking part have called this for the current phase; returns how
    /// many take part in the next one (a member whose index is not below it leaves the job).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public int Wait(int members)
    {
        if (members == 1) return 1;
        long generation = Volatile.Read(ref _generation);
        if (Interlocked.Increment(ref _arrived) == members)
        {
            Volatile.Write(ref _arrived, 0);               // before the release, so no member re-enters early
            if (Volatile.Read(ref _contended) != 0) Volatile.Write(ref _alone, 1);
            _firstPhase = 0;
            Interlocked.Increment(ref _generation);
            return Volatile.Read(ref _alone) != 0 ? 1 : members;
        }
        bool firstPhase = Volatile.Read(ref _firstPhase) != 0;
        var spin = new TeamSpin();
        // Member 0 alone from here (a verdict, or a member that failed) also ends the wait: the verdict's member has
        // arrived, and a failed one never will.
        while (Volatile.Read(ref _generation) == generation && Volatile.Read(ref _alone) == 0) spin.Once();
        // Counted after the wait, so it counts the whole stall; a verdict takes effect at the next phase.
        long waited = spin.Waited;
        if (!firstPhase && waited > MinStall)
        {
            long lost = Interlocked.Add(ref _stalls, waited);
            if (lost > MinLoss && 2 * lost > Stopwatch.GetTimestamp() - _start) Volatile.Write(ref _contended, 1);
        }
        return Volatile.Read(ref _alone) != 0 ? 1 : members;
    }
}
