using System.Runtime.CompilerServices;

namespace RnnGpu.Accelerators.Cpu;

/// <summary>
/// The barrier of a persistent <see cref="CpuTeam"/> job (a recurrence waits on it once per time step). Each phase
/// bumps a generation counter, so the barrier carries no state a member must know to reuse it. A member spins while
/// the wait is short and yields its core once it is long, so a member the OS has put on the same core can run. A
/// member that waited a stall (<see cref="TeamHealth.IsStall"/>) reports it at the end of the phase, and when
/// <see cref="TeamHealth"/> judges the cores contended, the team's part in the job ends: from the next phase on only
/// member 0 goes on, with every share, and the others leave. Work must therefore split each phase by the member
/// count the barrier returns.
/// </summary>
internal sealed class TeamBarrier
{
    private int _arrived;
    private long _generation;
    private int _firstPhase;   // 1 until the job's first phase ends: a member just woken may start late, which is no stall
    private int _contended;    // a member's stall made TeamHealth judge the cores contended
    private int _alone;        // member 0 goes on alone

    /// <summary>Before a job: every member takes part.</summary>
    public void Reset()
    {
        _arrived = 0;
        _contended = 0;
        _alone = 0;
        _firstPhase = 1;
    }

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
        while (Volatile.Read(ref _generation) == generation) spin.Once();
        // Reported after the wait, so it counts the whole stall; a contention verdict takes effect at the next phase.
        long waited = spin.Waited;
        if (!firstPhase && TeamHealth.IsStall(waited) && TeamHealth.ReportStall(waited)) Volatile.Write(ref _contended, 1);
        return Volatile.Read(ref _alone) != 0 ? 1 : members;
    }
}
