using System.Diagnostics;
using RnnGpu.Accelerators;
using RnnGpu.Accelerators.Cpu;

namespace RnnGpu.Tests.Kernels;

/// <summary>
/// The CPU team and the work split across it. Jobs ask for three members, more than a CI machine may have cores, so
/// the team's paths run whatever the machine; stalls seen earlier are forgotten before each job, so it gets the team
/// it asks for. A recurrence run by the team must equal, bit for bit, the same recurrence run by one thread, including when
/// the team gives up part way (a member that stalls). Not run in parallel with other tests: a GEMM elsewhere would
/// hold the team and make these jobs run alone.
/// </summary>
[Collection(nameof(CpuTeamTests))]
public sealed class CpuTeamTests
{
    private const int Threads = 3;
    private const double Flops = 1e6;   // what each job reports doing (TeamHealth's measure; these jobs' real work is nil)

    private sealed class Job(Action<int, int> body) : ITeamWork
    {
        public void Run(int member, int members) => body(member, members);
    }

    /// <summary>A job whose members meet at barriers: no member's share may run on another's thread.</summary>
    private sealed class BarrierJob(Action<int, int> body, TeamBarrier? barrier = null) : ITeamWork
    {
        public void Run(int member, int members) => body(member, members);

        public bool SharesStandAlone => false;

        public void Abandon() => barrier?.Break();
    }

    [Fact]
    public void Every_member_runs_once_and_a_nested_call_runs_alone()
    {
        TeamHealth.Forget();
        var seen = new int[Threads];
        int nestedMembers = -1;
        CpuTeam.Run(new Job((member, members) =>
        {
            Interlocked.Increment(ref seen[member]);
            Assert.Equal(Threads, members);
            if (member == 0) CpuTeam.Run(new Job((_, inner) => nestedMembers = inner), Threads, Flops);
        }), Threads, Flops);
        Assert.All(seen, count => Assert.Equal(1, count));
        Assert.Equal(1, nestedMembers);
    }

    [Fact]
    public void A_job_gets_the_threads_it_asks_for_and_no_more()
    {
        TeamHealth.Forget();
        foreach (int threads in new[] { 1, 2, 3, 1 })
        {
            TeamHealth.Forget();
            int runs = 0, members = -1;
            CpuTeam.Run(new Job((member, n) =>
            {
                Interlocked.Increment(ref runs);
                if (member == 0) members = n;
            }), threads, Flops);
            Assert.Equal(threads, members);
            Assert.Equal(threads, runs);
        }
    }

    [Fact]
    public void A_thread_told_to_run_alone_gets_a_team_of_one_and_others_still_get_the_team()
    {
        TeamHealth.Forget();
        int aloneMembers = -1;
        var thread = new Thread(() =>
        {
            CpuTeam.RunAloneOnThisThread();
            CpuTeam.Run(new Job((_, members) => aloneMembers = members), Threads, Flops);
        });
        thread.Start();
        thread.Join();
        Assert.Equal(1, aloneMembers);
        TeamHealth.Forget();
        int members = -1;
        CpuTeam.Run(new Job((member, n) => { if (member == 0) members = n; }), Threads, Flops);
        Assert.Equal(Threads, members);
    }

    [Fact]
    public void Every_share_runs_exactly_once_whoever_takes_it_and_the_caller_takes_those_not_started()
    {
        TeamHealth.Forget();
        const int jobs = 2000;
        var runs = new int[jobs, Threads];
        int taken = 0, caller = Environment.CurrentManagedThreadId;
        for (int j = 0; j < jobs; j++)
        {
            int job = j;
            TeamHealth.Forget();   // three threads may share two cores here: stalls must not shrink the next job
            CpuTeam.Run(new Job((member, members) =>
            {
                Assert.Equal(Threads, members);
                Interlocked.Increment(ref runs[job, member]);
                if (member > 0 && Environment.CurrentManagedThreadId == caller) Interlocked.Increment(ref taken);
                if (member == 1 && job % 7 == 0) Thread.SpinWait(2000);   // a slow share now and then
            }), Threads, Flops);
        }
        for (int j = 0; j < jobs; j++)
        for (int m = 0; m < Threads; m++)
            Assert.Equal(1, runs[j, m]);
        // The caller's share is empty, so it reaches the workers' shares first nearly every time.
        Assert.True(taken > 0, "the caller never took a share its worker had not started");
    }

    [Fact]
    public void Workers_blocked_after_a_quiet_spell_wake_for_a_job_whose_members_meet_at_a_barrier()
    {
        // Workers block after spinning 1 ms without a job; a barrier job cannot finish unless each is woken. Pauses
        // from 0.5 to 2 ms in steps of 50 µs (timed on the clock: Thread.Sleep rounds to milliseconds) put the post
        // at every point of a worker's way from spinning to blocking. Nothing inside the jobs can throw: a member
        // that failed before the barrier would leave the others waiting there.
        static void Pause(int microseconds)
        {
            long end = Stopwatch.GetTimestamp() + Stopwatch.Frequency * microseconds / 1_000_000;
            while (Stopwatch.GetTimestamp() < end) Thread.SpinWait(20);
        }
        for (int round = 0; round < 31; round++)
        {
            TeamHealth.Forget();
            Pause(500 + 50 * round);
            var barrier = new TeamBarrier();
            barrier.Reset();
            var phasesRun = new int[Threads];
            var membersSeen = new int[Threads];
            CpuTeam.Run(new BarrierJob((member, members) =>
            {
                membersSeen[member] = members;
                for (int phase = 0; phase < 3; phase++)
                {
                    Interlocked.Increment(ref phasesRun[member]);
                    barrier.Wait(members);
                }
            }), Threads, Flops);
            Assert.All(membersSeen, members => Assert.Equal(Threads, members));
            Assert.All(phasesRun, count => Assert.Equal(3, count));
            // And a job whose shares stand alone after the same pause: each share once, by whichever thread.
            Pause(500 + 50 * round);
            var runs = new int[Threads];
            CpuTeam.Run(new Job((member, _) => Interlocked.Increment(ref runs[member])), Threads, Flops);
            Assert.All(runs, count => Assert.Equal(1, count));
        }
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    public void A_member_that_fails_between_barriers_fails_the_job_and_releases_the_others(int failing)
    {
        TeamHealth.Forget();
        var barrier = new TeamBarrier();
        barrier.Reset();
        var e = Assert.Throws<InvalidOperationException>(() => CpuTeam.Run(new BarrierJob((member, members) =>
        {
            for (int phase = 0; phase < 4; phase++)
            {
                if (member == failing && phase == 1) throw new InvalidOperationException($"member {member} failed");
                if (member >= (members = barrier.Wait(members))) return;
            }
        }, barrier), Threads, Flops));
        Assert.Equal($"member {failing} failed", e.Message);
        int runs = 0;
        TeamHealth.Forget();
        CpuTeam.Run(new Job((_, _) => Interlocked.Increment(ref runs)), Threads, Flops);   // the team still works afterwards
        Assert.Equal(Threads, runs);
    }

    [Fact]
    public void A_member_failure_reaches_the_caller()
    {
        TeamHealth.Forget();
        var e = Assert.Throws<InvalidOperationException>(() => CpuTeam.Run(new Job((member, _) =>
        {
            if (member == 1) throw new InvalidOperationException("member 1 failed");
        }), Threads, Flops));
        Assert.Equal("member 1 failed", e.Message);
        int runs = 0;
        TeamHealth.Forget();
        CpuTeam.Run(new Job((_, _) => Interlocked.Increment(ref runs)), Threads, Flops);   // the team still works afterwards
        Assert.Equal(Threads, runs);
    }

    [Fact]
    public void The_team_settles_on_whichever_of_sharing_and_running_alone_measures_faster()
    {
        TeamHealth.Forget();
        long ms = System.Diagnostics.Stopwatch.Frequency / 1000;
        void Run(int members, double flopsPerMs, int milliseconds)
        {
            Assert.Equal(members, TeamHealth.Members(2));
            for (int i = 0; i < milliseconds; i++) TeamHealth.Report(flopsPerMs, ms);
        }
        int switches = TeamHealth.Switches;
        Run(members: 2, flopsPerMs: 2, milliseconds: 100);    // the first 100 ms on the team (before), then one thread is tried
        Run(members: 1, flopsPerMs: 1, milliseconds: 25);     // half as fast alone: the probe is cut short after 25 ms
        Assert.Equal(switches, TeamHealth.Switches);
        Run(members: 2, flopsPerMs: 1, milliseconds: 100);    // 100 ms until the next probe; the team got slower (a busy neighbour)
        Run(members: 2, flopsPerMs: 1, milliseconds: 100);    // before
        Run(members: 1, flopsPerMs: 1.5, milliseconds: 100);  // the probe: alone is 50% faster now
        Run(members: 2, flopsPerMs: 1, milliseconds: 100);    // after: still slow, so jobs settle alone
        Assert.Equal(switches + 1, TeamHealth.Switches);
        Assert.True(TeamHealth.SettledAlone);
        Run(members: 1, flopsPerMs: 1.5, milliseconds: 100);  // checked again soon after a switch
        Run(members: 1, flopsPerMs: 1, milliseconds: 100);    // before: a slow spell of the host
        Run(members: 2, flopsPerMs: 1.3, milliseconds: 100);  // the probe beats it by 30%...
        Run(members: 1, flopsPerMs: 1.5, milliseconds: 100);  // ...but not the window after it: no switch
        Assert.Equal(switches + 1, TeamHealth.Switches);
        Run(members: 1, flopsPerMs: 1.5, milliseconds: 400);  // the next probe four times as late
        Run(members: 1, flopsPerMs: 1.5, milliseconds: 100);
        Run(members: 2, flopsPerMs: 3, milliseconds: 100);    // the neighbour went away
        Run(members: 1, flopsPerMs: 1.5, milliseconds: 100);
        Assert.Equal(switches + 2, TeamHealth.Switches);
        Assert.False(TeamHealth.SettledAlone);
        Assert.Equal(2, TeamHealth.Members(2));
        Assert.Equal(1, TeamHealth.Members(1));
        TeamHealth.Forget();
    }

    [Fact]
    public void A_job_that_loses_half_its_time_to_a_stalled_member_goes_on_with_member_0_alone()
    {
        TeamHealth.Forget();
        const int phases = 12, slowPhase = 3;
        var barrier = new TeamBarrier();
        var ranBy = new int[phases];
        Array.Fill(ranBy, -1);
        barrier.Reset();
        CpuTeam.Run(new BarrierJob((member, members) =>
        {
            for (int phase = 0; phase < phases; phase++)
            {
                // Each phase's one unit of work goes to the last member taking part, so member 0 takes it only alone.
                if (member == members - 1) ranBy[phase] = member;
                if (member == 1 && phase == slowPhase) Thread.Sleep(60);   // descheduled for 60 ms: contention
                if (member >= (members = barrier.Wait(members))) return;
            }
        }), 2, Flops);
        Assert.All(ranBy[..(slowPhase + 1)], m => Assert.Equal(1, m));
        Assert.All(ranBy[(slowPhase + 2)..], m => Assert.Equal(0, m));
    }

    [Theory]
    [InlineData(Activation.Tanh, false, 64, 256, 5)]
    [InlineData(Activation.Relu, true, 13, 100, 4)]
    [InlineData(Activation.Tanh, true, 9, 129, 3)]
    public void Team_and_single_thread_recurrences_agree_exactly(Activation act, bool reverse, int batch, int hidden, int time)
    {
        TeamHealth.Forget();
        using var acc = new CpuAccelerator(Threads);
        var p = RnnSequenceTests.Problem.Random(batch, hidden, time, seed: hidden);
        float[] Run(bool alone)
        {
            long bh = (long)batch * hidden;
            using var h0 = acc.Allocate(bh);
            using var w = acc.Allocate((long)hidden * hidden);
            using var states = acc.Allocate(time * bh);
            using var dPre = acc.Allocate(time * bh);
            using var dh = acc.Allocate(bh);
            using var scratch = acc.Allocate(bh);
            acc.CopyIn(p.H0, h0);
            acc.CopyIn(p.W, w);
            acc.CopyIn(p.Pre, states);
            acc.CopyIn(p.DhAbove, dPre);
            acc.CopyIn(p.DhLast, dh);
            void Both()
            {
                acc.RnnRecurrenceForward(act, p.StepRows, hidden, h0, w, states, reverse);
                acc.RnnRecurrenceBackward(act, p.StepRows, hidden, states, w, dPre, dh, scratch, reverse);
            }
            if (alone) CpuTeam.Run(new Job((member, _) => { if (member == 0) Both(); }), Threads, Flops);
            else Both();
            return [.. acc.ToArray(states), .. acc.ToArray(dPre), .. acc.ToArray(dh)];
        }
        Assert.Equal(Run(alone: true), Run(alone: false));
    }
}

[CollectionDefinition(nameof(CpuTeamTests), DisableParallelization = true)]
public sealed class CpuTeamCollection;
