namespace RnnGpu.Accelerators.Cpu;

/// <summary>Work that a <see cref="CpuTeam"/> splits: member i of n runs its own share.</summary>
internal interface ITeamWork
{
    /// <summary>The share of <paramref name="member"/> (0-based) when <paramref name="members"/> threads run the work.</summary>
    void Run(int member, int members);
}

/// <summary>
/// One team of threads for the whole process, one per core, the caller being member 0. A step of a
/// recurrence is tens of microseconds of work, too short for the thread pool's hand-off (Parallel.For
/// costs several microseconds and wakes threads late), so the other members spin on a generation counter
/// for a while after each job before they block. One caller owns the team at a time; a second concurrent
/// caller (or a nested call) is not made to wait: its work runs on its own thread as a team of one, which
/// is why work must partition by the <c>members</c> it is given. Results must not depend on that count
/// (each output made by one member, in one order), and they do not in any kernel here.
/// </summary>
internal static class CpuTeam
{
    // How long a member spins for the next job before it blocks: longer than the gaps between the jobs of
    // one forward pass (a projection GEMM between two recurrences), short enough not to burn a core after it.
    private static readonly long SpinTicks = System.Diagnostics.Stopwatch.Frequency / 1000;

    private static readonly int Members = Math.Max(1, Math.Min(Environment.ProcessorCount, 64));
    private static readonly SemaphoreSlim[] Wake = CreateMembers();
    private static int _owned;                 // 1 while a caller owns the team
    private static long _generation;           // bumped once per job
    private static int _pending;                // members (other than the caller) still running the job
    private static ITeamWork? _work;
    private static int _sleepers;              // members blocked on Wake; the caller releases them
    private static Exception? _failure;        // the first exception a member threw in the current job

    [ThreadStatic] private static bool _alone;

    /// <summary>How many threads a job may get (the caller included).</summary>
    public static int Size => Members;

    /// <summary>
    /// Runs every later job of this thread on it alone. For a thread that is one of several working in
    /// parallel, one per core (a server's executors): a team would put a second thread on a core another
    /// worker needs, and a member descheduled there would stall each barrier for a time slice.
    /// </summary>
    public static void RunAloneOnThisThread() => _alone = true;

    /// <summary>Runs work.Run(i, n) for i in 0..n-1, on n threads when the team is free, else on the caller alone (n = 1).</summary>
    public static void Run<T>(T work) where T : class, ITeamWork
    {
        if (Members == 1 || _alone || Interlocked.CompareExchange(ref _owned, 1, 0) != 0)
        {
            work.Run(0, 1);
            return;
        }
        try
        {
            _work = work;
            Volatile.Write(ref _pending, Members - 1);
            Interlocked.Increment(ref _generation);
            if (Volatile.Read(ref _sleepers) > 0)
                foreach (var wake in Wake) wake?.Release();
            Exception? failure = null;
            try { work.Run(0, Members); }
            catch (Exception e) { failure = e; }
            var spin = new SpinWait();
            while (Volatile.Read(ref _pending) > 0) spin.SpinOnce(-1);
            _work = null;
            var memberFailure = Interlocked.Exchange(ref _failure, null);
            if (failure is not null || memberFailure is not null)
                throw failure ?? memberFailure!;
        }
        finally
        {
            Volatile.Write(ref _owned, 0);
        }
    }

    private static SemaphoreSlim[] CreateMembers()
    {
        var wake = new SemaphoreSlim[Members];
        for (int m = 1; m < Members; m++)
        {
            wake[m] = new SemaphoreSlim(0);
            int member = m;
            var thread = new Thread(() => Loop(member)) { IsBackground = true, Name = $"rnngpu-cpu-{member}" };
            thread.Start();
        }
        return wake;
    }

    private static void Loop(int member)
    {
        long seen = 0;
        while (true)
        {
            long spinStart = System.Diagnostics.Stopwatch.GetTimestamp();
            while (Volatile.Read(ref _generation) == seen)
            {
                if (System.Diagnostics.Stopwatch.GetTimestamp() - spinStart < SpinTicks)
                {
                    Thread.SpinWait(20);
                    continue;
                }
                Interlocked.Increment(ref _sleepers);
                // The generation may have moved between the last read and the increment: look again before blocking.
                // A release meant for an earlier job may wake it early: the loop then looks and blocks again.
                if (Volatile.Read(ref _generation) == seen) Wake[member].Wait();
                Interlocked.Decrement(ref _sleepers);
            }
            seen = Volatile.Read(ref _generation);
            try { _work!.Run(member, Members); }
            catch (Exception e) { Interlocked.CompareExchange(ref _failure, e, null); }
            finally { Interlocked.Decrement(ref _pending); }
        }
    }
}

/// <summary>
/// A spinning barrier for the members of one <see cref="CpuTeam"/> job (a persistent recurrence waits
/// on it once per time step). Each phase bumps a generation counter, so the barrier carries no state a
/// member must know to reuse it, step after step and job after job.
/// </summary>
internal sealed class TeamBarrier
{
    private int _arrived;
    private long _generation;

    /// <summary>Waits until all <paramref name="members"/> have called this for the current phase.</summary>
    public void Wait(int members)
    {
        if (members == 1) return;
        // Read before arriving: the phase cannot end until this member has arrived.
        long generation = Volatile.Read(ref _generation);
        if (Interlocked.Increment(ref _arrived) == members)
        {
            Volatile.Write(ref _arrived, 0);             // before the release, so no member re-enters early
            Interlocked.Increment(ref _generation);
            return;
        }
        var spin = new SpinWait();
        while (Volatile.Read(ref _generation) == generation) spin.SpinOnce(-1);
    }
}
