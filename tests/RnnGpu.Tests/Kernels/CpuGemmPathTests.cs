using RnnGpu.Accelerators;
using RnnGpu.Accelerators.Cpu;
using RnnGpu.Accelerators.Cpu.Reference;
using RnnGpu.Tests.Support;

namespace RnnGpu.Tests.Kernels;

/// <summary>
/// The CPU GEMM's three kernel sets (Vector512, Vector256, scalar), each forced on the test thread, against the
/// double-accumulating reference: every transpose, alpha and beta, padded leading dimensions, batches, the
/// dot-product path (few rows, B transposed), B read in place (few rows) and the packed path with edge tiles;
/// and results that do not depend on how many threads share the product.
/// </summary>
public sealed unsafe class CpuGemmPathTests
{
    private const double Rtol = 2e-5, Atol = 2e-6;

    // Names of GemmIsa values (the enum is internal, test parameters must be public types).
    private static readonly string[] Isas = [nameof(GemmIsa.Vector512), nameof(GemmIsa.Vector256), nameof(GemmIsa.Scalar)];

    public static IEnumerable<object[]> Cases()
    {
        // M x N x K: 1 and M <= 32 reach the dot-product and unpacked-B paths; the rest the packed one,
        // with edge rows and columns (7, 13, 33, 65, 257), several K slices (513) and thread stripes.
        int[][] shapes = [[1, 1, 1], [1, 257, 65], [7, 13, 33], [13, 65, 7], [32, 33, 257], [33, 65, 13],
            [65, 33, 513], [257, 7, 65], [70, 257, 33]];
        foreach (var isa in Isas)
        foreach (var s in shapes)
        foreach (bool ta in new[] { false, true })
        foreach (bool tb in new[] { false, true })
            yield return [isa, s[0], s[1], s[2], ta, tb];
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Every_kernel_set_matches_reference(string isa, int m, int n, int k, bool transA, bool transB)
    {
        var spec = new GemmSpec(transA, transB, m, n, k, 0.75f, -0.5f, (transA ? m : k) + 3, (transB ? k : n) + 2, n + 5);
        AssertMatchesReference(isa, spec, new Random(m * 7919 + n * 31 + k), $"{isa} {m}x{n}x{k} tA={transA} tB={transB}");
    }

    [Theory]
    [InlineData(nameof(GemmIsa.Vector512))]
    [InlineData(nameof(GemmIsa.Vector256))]
    [InlineData(nameof(GemmIsa.Scalar))]
    public void Batches_with_beta_zero_ignore_nan_and_beta_one_accumulates(string isa)
    {
        foreach (var (m, tb, beta) in new[] { (5, true, 0f), (40, true, 1f), (40, false, 0f), (3, false, 1f) })
        {
            var spec = GemmSpec.Dense(false, tb, m, 37, 19, 1.5f, beta) with
            {
                BatchCount = 3, StrideA = m * 19 + 5, StrideB = 37 * 19 + 1, StrideC = m * 37 + 2,
            };
            AssertMatchesReference(isa, spec, new Random(m), $"{isa} batched M={m} tB={tb} beta={beta}", nanInC: beta == 0f);
        }
    }

    public static IEnumerable<object[]> SplitCases()
    {
        foreach (var isa in Isas)
        {
            yield return [isa, 1, 1001, 70, false, true];     // dot product, one row
            yield return [isa, 1, 1001, 64, false, true];     // one row, K without a tail: 16- and 8-column blocks by the split
            yield return [isa, 29, 300, 65, false, true];     // dot product
            yield return [isa, 20, 301, 70, false, false];    // B read in place
            yield return [isa, 203, 97, 300, false, false];   // packed, split by rows
            yield return [isa, 45, 333, 70, true, true];      // packed, split by columns
        }
    }

    [Theory]
    [MemberData(nameof(SplitCases))]
    public void Results_do_not_depend_on_the_number_of_threads(string isa, int m, int n, int k, bool transA, bool transB)
    {
        var spec = GemmSpec.Dense(transA, transB, m, n, k, 0.5f, 0.25f);
        var rng = new Random(3);
        var a = Numerics.Random(rng, spec.ExtentA);
        var b = Numerics.Random(rng, spec.ExtentB);
        var c = Numerics.Random(rng, spec.ExtentC);
        var alone = Run(isa, spec, a, b, c, members: 1);
        foreach (int members in new[] { 2, 3, 7 })
            Assert.Equal(alone, Run(isa, spec, a, b, c, members));
        Assert.Equal(alone, Run(isa, spec, a, b, c, members: 0));
    }

    [Fact]
    public void A_call_nested_in_a_team_job_runs_alone_with_the_same_result()
    {
        var spec = GemmSpec.Dense(false, false, 300, 200, 150, 1f, 0f);
        var rng = new Random(4);
        var a = Numerics.Random(rng, spec.ExtentA);
        var b = Numerics.Random(rng, spec.ExtentB);
        var c = new float[spec.ExtentC];
        var onTeam = Run(nameof(GemmIsa.Vector512), spec, a, b, c, members: 0);
        var nested = new NestedGemm(spec, a, b);
        CpuTeam.Run(nested, CpuTeam.MaxThreads, flops: 0);
        Assert.Equal(onTeam, nested.Result);
    }

    /// <summary>Member 0 runs the GEMM while it holds the team, so the GEMM gets a team of one.</summary>
    private sealed class NestedGemm(GemmSpec spec, float[] a, float[] b) : ITeamWork
    {
        public float[] Result { get; } = new float[spec.ExtentC];

        public void Run(int member, int members)
        {
            if (member == 0) CpuGemmPathTests.Run(nameof(GemmIsa.Vector512), spec, a, b, Result, members: 0).CopyTo(Result, 0);
        }
    }

    private static void AssertMatchesReference(string isa, GemmSpec spec, Random rng, string what, bool nanInC = false)
    {
        var a = Numerics.Random(rng, spec.ExtentA);
        var b = Numerics.Random(rng, spec.ExtentB);
        var c = Numerics.Random(rng, spec.ExtentC);
        if (nanInC) Array.Fill(c, float.NaN);
        var expected = (float[])c.Clone();
        if (nanInC) Array.Clear(expected);
        ReferenceKernels.Gemm(spec, a, b, expected);
        var actual = Run(isa, spec, a, b, c, members: 0);
        if (nanInC)
        {
            // Elements between batches are written by neither; compare the ones the product covers.
            for (int i = 0; i < actual.Length; i++)
                if (float.IsNaN(actual[i])) actual[i] = expected[i];
        }
        // Float32 rounding of a K-term sum grows about as sqrt(K) (K = 513 cancels to 0.02 from terms near 1).
        Numerics.AssertClose(expected, actual, Rtol, Atol * Math.Max(1, Math.Sqrt(spec.K)), what);
    }

    /// <summary>The team the products get: three members, more than this machine may have cores, so every split runs here.</summary>
    private const int Threads = 3;

    /// <summary>C after the product on a copy, with kernels no wider than isa, as members shares in turn (0: the team).</summary>
    private static float[] Run(string isa, GemmSpec spec, float[] a, float[] b, float[] c, int members)
    {
        var result = (float[])c.Clone();
        GemmIsaChoice.NarrowForThisThread(Enum.Parse<GemmIsa>(isa));
        GemmThreading.SimulateMembersForThisThread(members);
        try
        {
            fixed (float* pa = a, pb = b, pc = result) CpuGemm.Run(spec, pa, pb, pc, Threads);
        }
        finally
        {
            GemmIsaChoice.NarrowForThisThread(null);
            GemmThreading.SimulateMembersForThisThread(0);
        }
        return result;
    }
}
