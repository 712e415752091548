using System.Diagnostics;
using System.Runtime.CompilerServices;

namespace RnnGpu.Accelerators.Cpu;

/// <summary>Work that a <see cref="CpuTeam"/> splits: member i of n runs its own share.</summary>
internal interface ITeamWork
{
    /// <summary>The share of <paramref name="member"/> (0-based) when <paramref name="members"/> threads run the work.</summary>
    void Run(int member, int members);

    /// <summary>
    /// Whether a share may run on another member's thread, after that member's own: true unless shares wait for
    /// each other (a barrier), which one thread running two of them would never get past.
    /// </summary>
    bool SharesStandAlone => true;
}

/// <summary>
/// One team of threads for the whole process, the caller being member 0 and up to <see cref="MaxThreads"/> - 1
/// workers made as jobs ask for them. A step of a recurrence is microseconds of work, too short for the thread
/// pool's hand-off (Parallel.For costs several microseconds and wakes threads late), so workers spin on a
/// generation counter for a while after each job before they block. One caller owns the team at a time; a second
/// concurrent caller (or a nested call) is not made to wait: its work runs on its own thread as a team of one, which
/// is why work must partition by the <c>members</c> it is given. Results must not depend on that count (each output
/// made by one member, in one order), and they do not in any kernel here.
/// A job runs alone while <see cref="TeamHealth"/> measures that to be faster (a busy neighbour, a CPU quota: one core
/// at full speed beats two that wait a time slice for each other). And a share that stands alone is taken by the
/// caller when its worker has not started it by the time the caller's own share is done, so a worker that is slow to
/// wake (blocked after a quiet spell, or off its core) costs no wait.
/// </summary>
internal static class CpuTeam
{
    public const int MaxThreads = 64;

    // How long a worker spins for the next job before it blocks: longer than the gaps between the jobs of
    // one forward pass (a projection GEMM between two recurrences), short enough not to burn a core after it.
    private static readonly long SpinTicks = Stopwatch.Frequency / 1000;

    private static readonly Lock Growth = new();
    private static Worker[] _workers = [];     // index m for member m; slot 0 unused (the caller)
    private static int _owned;                 // 1 while a caller owns the team
    // The job's number times 256 plus its member count, read in one go: a worker outside a job (its index past
    // the count) is not waited for, so the next job may be posted before it looks, and it must not mix the two.
    private static long _job;
    private static int _pending;               // workers still running the job
    private static ITeamWork? _work;
    private static Exception? _failure;        // the first exception a worker threw in the current job

    [ThreadStatic] private static bool _alone;

    /// <summary>
    /// The threads a job gets unless told otherwise: the cores this process may use, as .NET counts them (the
    /// affinity mask and a container's CPU quota included; DOTNET_PROCESSOR_COUNT overrides).
    /// </summary>
    public static int DefaultThreads { get; } = Math.Clamp(Environment.ProcessorCount, 1, MaxThreads);

    /// <summary>
    /// Runs every later job of this thread on it alone. For a thread that is one of several working in
    /// parallel, one per core (a server's executors): a team would put a second thread on a core another
    /// worker needs, and a member descheduled there would stall each barrier for a time slice.
    /// </summary>
    public static void RunAloneOnThisThread() => _alone = true;

    /// <summary>
    /// Runs work.Run(i, n) for i in 0..n-1 on n threads, n at most <paramref name="threads"/> (1 while
    /// <see cref="TeamHealth"/> measures one thread to be faster), or on the caller alone (n = 1) when the team is
    /// taken or told to. <paramref name="flops"/>: the job's work, for TeamHealth to measure the speed of each choice.
    /// </summary>
    public static void Run<T>(T work, int threads, double flops) where T : class, ITeamWork
    {
        int wanted = Math.Clamp(threads, 1, MaxThreads), members = TeamHealth.Members(wanted);
        if (wanted == 1 || _alone || (members > 1 && Interlocked.CompareExchange(ref _owned, 1, 0) != 0))
        {
            work.Run(0, 1);   // no choice made here: not measured
            return;
        }
        long start = Stopwatch.GetTimestamp();
        if (members == 1) work.Run(0, 1);
        else
            try
            {
                RunShared(work, members);
            }
            finally
            {
                Volatile.Write(ref _owned, 0);
            }
        TeamHealth.Report(flops, Stopwatch.GetTimestamp() - start);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void RunShared(ITeamWork work, int members)
    {
        var workers = WorkersFor(members);
        long job = ((_job >> 8) + 1 << 8) | (long)members;
        _work = work;
        Volatile.Write(ref _pending, members - 1);
        for (int m = 1; m < members; m++) Volatile.Write(ref workers[m].Share, job);
        Interlocked.Exchange(ref _job, job);
        for (int m = 1; m < members; m++) workers[m].WakeIfSleeping();
        Exception? failure = null;
        try
        {
            work.Run(0, members);
            if (work.SharesStandAlone)
                for (int m = 1; m < members; m++)
                    if (workers[m].TryTake(job))
                    {
                        try { work.Run(m, members); }
                        finally { Interlocked.Decrement(ref _pending); }
                    }
        }
        catch (Exception e) { failure = e; }
        var spin = new TeamSpin();
        while (Volatile.Read(ref _pending) > 0) spin.Once();
        _work = null;
        var workerFailure = Interlocked.Exchange(ref _failure, null);
        if (failure is not null || workerFailure is not null)
            throw failure ?? workerFailure!;
    }

    /// <summary>The workers, at least <paramref name="members"/> - 1 of them, started on first need.</summary>
    private static Worker[] WorkersFor(int members)
    {
        var workers = Volatile.Read(ref _workers);
        if (workers.Length >= members) return workers;
        lock (Growth)
        {
            workers = _workers;
            if (workers.Length >= members) return workers;
            var grown = new Worker[members];
            Array.Copy(workers, grown, workers.Length);
            for (int m = Math.Max(1, workers.Length); m < members; m++) grown[m] = new Worker(m, Volatile.Read(ref _job));
            Volatile.Write(ref _workers, grown);
            return grown;
        }
    }

    private sealed class Worker
    {
        private readonly SemaphoreSlim _wake = new(0);
        private readonly int _member;
        private int _sleeping;

        /// <summary>The job whose share of this member nobody has taken yet (else 0): the worker and the caller race for it.</summary>
        public long Share;

        /// <summary>Takes this member's share of <paramref name="job"/>, unless someone already did.</summary>
        public bool TryTake(long job) => Interlocked.CompareExchange(ref Share, 0, job) == job;

        public Worker(int member, long job)
        {
            _member = member;
            var thread = new Thread(() => Loop(job)) { IsBackground = true, Name = $"rnngpu-cpu-{member}" };
            thread.Start();
        }

        public void WakeIfSleeping()
        {
            if (Interlocked.Exchange(ref _sleeping, 0) == 1) _wake.Release();
        }

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private void Loop(long seen)
        {
            while (true)
            {
                long spinStart = Stopwatch.GetTimestamp();
                for (int looks = 1; Volatile.Read(ref _job) == seen; looks++)
                {
                    // A pause between looks, so a job is seen within about 40 ns; the clock read every 64 looks.
                    if ((looks & 63) != 0 || Stopwatch.GetTimestamp() - spinStart < SpinTicks)
                    {
                        Thread.SpinWait(1);
                        continue;
                    }
                    // Flag, then look again before blocking: a job posted in between either is seen here or sees the flag.
                    Interlocked.Exchange(ref _sleeping, 1);
                    if (Volatile.Read(ref _job) == seen) _wake.Wait();
                    else if (Interlocked.Exchange(ref _sleeping, 0) == 0) _wake.Wait();   // the poster saw the flag: take its release
                    spinStart = Stopwatch.GetTimestamp();
                }
                seen = Volatile.Read(ref _job);
                int members = (int)(seen & 0xFF);
                // A share the caller took is the caller's to count; the job may even be over by now.
                if (_member >= members || !TryTake(seen)) continue;
                try { _work!.Run(_member, members); }
                catch (Exception e) { Interlocked.CompareExchange(ref _failure, e, null); }
                finally { Interlocked.Decrement(ref _pending); }
            }
        }
    }
}
