using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

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

    /// <summary>
    /// A share threw: lets the other members out of any wait for it (a barrier's members would wait forever). The
    /// exception then reaches the caller once every member has left.
    /// </summary>
    void Abandon() { }
}

/// <summary>
/// One team of threads for the whole process, the caller being member 0 and up to <see cref="MaxThreads"/> - 1
/// workers made as jobs ask for them. A step of a recurrence is microseconds of work, too short for the thread
/// pool's hand-off (Parallel.For costs several microseconds and wakes threads late), so workers spin on their slot
/// for a while after each job before they block. One caller owns the team at a time; a second
/// concurrent caller (or a nested call) is not made to wait: its work runs on its own thread as a team of one, which
/// is why work must partition by the <c>members</c> it is given. Results must not depend on that count (each output
/// made by one member, in one order), and they do not in any kernel here.
/// A job runs alone while <see cref="TeamHealth"/> measures that to be faster (a busy neighbour, a CPU quota: one core
/// at full speed beats two that wait a time slice for each other). And a share that stands alone is taken by the
/// caller when its worker has not started it by the time the caller's own share is done, so a worker that is slow to
/// wake (blocked after a quiet spell, or off its core) costs no wait.
/// The hand-off is built for the fewest cache-line transfers between cores, as each costs half a core-to-core round
/// trip (`benchmarks/machine_limits.c --pair`; docs/benchmarks.md has this VM's) and a streaming step is about 2 µs: each worker has a slot, one line holding its job and the work, which it polls by exchanging the job with 0,
/// so seeing a job and taking it is one transfer; the caller takes a share the same way; and a worker reports a share
/// done on a line of its own that only the caller reads.
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
    private static long _jobs;                 // jobs posted; only the owner counts
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
        long job = (++_jobs << 8) | (long)members;
        bool standAlone = work.SharesStandAlone;
        for (int m = 1; m < members; m++) workers[m].Post(work, job);
        // A share that only its worker may run needs the worker awake: a fence, so that a worker about to block
        // either sees the job or is seen to block. Shares the caller may take need no fence: a worker missed here
        // has its share taken below and is woken by the next job.
        if (!standAlone) Interlocked.MemoryBarrier();
        for (int m = 1; m < members; m++) workers[m].WakeIfSleeping();
        Exception? failure = null;
        ulong takenByCaller = 0;   // bit m - 1: the caller ran member m's share (members are at most 64)
        try
        {
            work.Run(0, members);
            if (standAlone)
                for (int m = 1; m < members; m++)
                    if (workers[m].TryTake(job))
                    {
                        takenByCaller |= 1UL << (m - 1);
                        work.Run(m, members);
                        workers[m].Forget();
                    }
        }
        catch (Exception e)
        {
            failure = e;
            work.Abandon();
        }
        for (int m = 1; m < members; m++)
        {
            if ((takenByCaller & (1UL << (m - 1))) != 0) continue;
            // A share the caller failed to take (after its own failed, or a barrier job's) may still be posted: the
            // worker was asleep. Take it back unrun rather than wait for it (only after a failure: a barrier job's
            // worker is awake by the fence above).
            if (failure is not null && workers[m].TryTake(job)) continue;
            var spin = new TeamSpin();
            while (!workers[m].Finished(job)) spin.Once();
        }
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
            for (int m = Math.Max(1, workers.Length); m < members; m++) grown[m] = new Worker(m);
            Volatile.Write(ref _workers, grown);
            return grown;
        }
    }

    /// <summary>
    /// A worker's two cache lines: the slot the caller writes (the job, 0 once taken, and its work) and the line
    /// the worker writes (the last job it finished), 128 bytes apart and from anything else in the object or the heap,
    /// so the caller polling one does not pull the other from the worker. Objects are only 8-byte aligned: in one
    /// placement of eight, Work and Job straddle two lines, which costs a transfer, not correctness.
    /// </summary>
    [StructLayout(LayoutKind.Explicit, Size = 400)]
    private struct Lines
    {
        [FieldOffset(128)] public ITeamWork? Work;
        [FieldOffset(136)] public long Job;
        [FieldOffset(264)] public long Finished;
    }

    private sealed class Worker
    {
        private readonly SemaphoreSlim _wake = new(0);
        private readonly int _member;
        private int _sleeping;
        private Lines _lines;

        public Worker(int member)
        {
            _member = member;
            var thread = new Thread(Loop) { IsBackground = true, Name = $"rnngpu-cpu-{member}" };
            thread.Start();
        }

        /// <summary>The caller: the work, then the job that makes it visible (a release: x64 keeps stores in order).</summary>
        public void Post(ITeamWork work, long job)
        {
            _lines.Work = work;
            Volatile.Write(ref _lines.Job, job);
        }

        /// <summary>Takes this member's share of <paramref name="job"/>, unless the worker already did.</summary>
        public bool TryTake(long job) => Interlocked.CompareExchange(ref _lines.Job, 0, job) == job;

        /// <summary>Drops the work of a share the caller took and ran, so the slot keeps nothing alive between jobs.</summary>
        public void Forget() => _lines.Work = null;

        /// <summary>Whether the worker finished its share of <paramref name="job"/>.</summary>
        public bool Finished(long job) => Volatile.Read(ref _lines.Finished) == job;

        /// <summary>A plain read first: the flag's line stays shared while the worker spins, so a post costs no transfer for it.</summary>
        public void WakeIfSleeping()
        {
            if (Volatile.Read(ref _sleeping) == 1 && Interlocked.Exchange(ref _sleeping, 0) == 1) _wake.Release();
        }

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private void Loop()
        {
            while (true)
            {
                long job = Await();
                int members = (int)(job & 0xFF);
                try { _lines.Work!.Run(_member, members); }
                catch (Exception e)
                {
                    Interlocked.CompareExchange(ref _failure, e, null);
                    _lines.Work!.Abandon();
                }
                finally
                {
                    // Dropped before the report: the slot's line is this core's since the exchange, and the caller
                    // posts the next work only after seeing the report.
                    _lines.Work = null;
                    Volatile.Write(ref _lines.Finished, job);
                }
            }
        }

        /// <summary>The next job, taken: polled by exchange (the line stays on this core until the caller writes it), then blocked on.</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private long Await()
        {
            long spinStart = Stopwatch.GetTimestamp();
            for (int looks = 1; ; looks++)
            {
                long job = Interlocked.Exchange(ref _lines.Job, 0);
                if (job != 0) return job;
                // A pause between looks, so a job is seen within about 40 ns; the clock read every 64 looks.
                if ((looks & 63) != 0 || Stopwatch.GetTimestamp() - spinStart < SpinTicks)
                {
                    Thread.SpinWait(1);
                    continue;
                }
                // Flag, then look again before blocking: a job posted in between either is seen here or sees the flag.
                Interlocked.Exchange(ref _sleeping, 1);
                job = Interlocked.Exchange(ref _lines.Job, 0);
                if (job != 0)
                {
                    if (Interlocked.Exchange(ref _sleeping, 0) == 0) _wake.Wait();   // the poster saw the flag: take its release
                    return job;
                }
                _wake.Wait();
                spinStart = Stopwatch.GetTimestamp();
            }
        }
    }
}
