using RnnGpu.Accelerators;
using RnnGpu.Accelerators.Cpu;
using RnnGpu.Tests.Support;

namespace RnnGpu.Tests.Kernels;

/// <summary>
/// The CPU team and the work split across it: a recurrence run by the whole team must equal, bit for bit,
/// the same recurrence run by one thread (a call made from inside a team job gets a team of one).
/// Not run in parallel with other tests: a GEMM elsewhere would hold the team and make these jobs run alone.
/// </summary>
[Collection(nameof(CpuTeamTests))]
public sealed class CpuTeamTests
{
    private sealed class Job(Action<int, int> body) : ITeamWork
    {
        public void Run(int member, int members) => body(member, members);
    }

    [Fact]
    public void Every_member_runs_once_and_a_nested_call_runs_alone()
    {
        var seen = new int[CpuTeam.Size];
        int nestedMembers = -1;
        CpuTeam.Run(new Job((member, members) =>
        {
            Interlocked.Increment(ref seen[member]);
            Assert.Equal(CpuTeam.Size, members);
            if (member == 0) CpuTeam.Run(new Job((_, inner) => nestedMembers = inner));
        }));
        Assert.All(seen, count => Assert.Equal(1, count));
        Assert.Equal(1, nestedMembers);
    }

    [Fact]
    public void A_thread_told_to_run_alone_gets_a_team_of_one_and_others_still_get_the_team()
    {
        int aloneMembers = -1;
        var thread = new Thread(() =>
        {
            CpuTeam.RunAloneOnThisThread();
            CpuTeam.Run(new Job((_, members) => aloneMembers = members));
        });
        thread.Start();
        thread.Join();
        Assert.Equal(1, aloneMembers);
        int members = -1;
        CpuTeam.Run(new Job((member, n) => { if (member == 0) members = n; }));
        Assert.Equal(CpuTeam.Size, members);
    }

    [Fact]
    public void A_member_failure_reaches_the_caller()
    {
        if (CpuTeam.Size == 1) Assert.Skip("a one-core machine has no other member to fail");
        var e = Assert.Throws<InvalidOperationException>(() => CpuTeam.Run(new Job((member, _) =>
        {
            if (member == 1) throw new InvalidOperationException("member 1 failed");
        })));
        Assert.Equal("member 1 failed", e.Message);
        int runs = 0;
        CpuTeam.Run(new Job((_, _) => Interlocked.Increment(ref runs)));   // the team still works afterwards
        Assert.Equal(CpuTeam.Size, runs);
    }

    [Theory]
    [InlineData(Activation.Tanh, false, 64, 256, 5)]
    [InlineData(Activation.Relu, true, 13, 100, 4)]
    [InlineData(Activation.Tanh, true, 9, 129, 3)]
    public void Team_and_single_thread_recurrences_agree_exactly(Activation act, bool reverse, int batch, int hidden, int time)
    {
        if (CpuTeam.Size == 1) Assert.Skip("a one-core machine has only the single-thread split");
        using var acc = RnnGpu.Accelerators.Backends.Open("cpu");
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
                acc.RnnSequenceForward(act, batch, hidden, time, h0, w, states, reverse);
                acc.RnnSequenceBackward(act, batch, hidden, time, states, w, dPre, dh, scratch, reverse);
            }
            if (alone) CpuTeam.Run(new Job((member, _) => { if (member == 0) Both(); }));
            else Both();
            return [.. acc.ToArray(states), .. acc.ToArray(dPre), .. acc.ToArray(dh)];
        }
        Assert.Equal(Run(alone: true), Run(alone: false));
    }
}

[CollectionDefinition(nameof(CpuTeamTests), DisableParallelization = true)]
public sealed class CpuTeamCollection;
