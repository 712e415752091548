namespace RnnGpu.Accelerators.Cpu;

/// <summary>
/// Runs a GEMM job on the process team, or alone when it is too small to be worth waking the team.
/// Tests can make the calling thread run the job as if split among any number of members, one share
/// after the other, to check that results do not depend on that number.
/// </summary>
internal static class GemmThreading
{
    /// <summary>Below this many flops (2 M N K) a product runs on the calling thread alone.</summary>
    public const long ParallelFlops = 1L << 20;

    [ThreadStatic] private static int _simulatedMembers;

    public static void Run(ITeamWork job, long flops, int threads)
    {
        if (_simulatedMembers > 0)
        {
            for (int m = 0; m < _simulatedMembers; m++) job.Run(m, _simulatedMembers);
            return;
        }
        if (flops < ParallelFlops) job.Run(0, 1);
        else CpuTeam.Run(job, threads, flops);
    }

    /// <summary>For tests: on this thread, run every job as <paramref name="members"/> shares in turn; 0 restores the team.</summary>
    internal static void SimulateMembersForThisThread(int members) => _simulatedMembers = members;
}
