using RnnGpu.Model;
using RnnGpu.Tests.Serving;
using RnnGpu.Tests.Support;

namespace RnnGpu.Tests.Model;

/// <summary>
/// A warm stream step allocates nothing. Run apart from the parallel tests: one of them holding the CPU team
/// sends a step down the run-alone path, whose first use on this thread would count.
/// </summary>
[Collection(nameof(ServingAllocationTests))]
public sealed class RnnStreamAllocationTests
{
    [Theory]
    [InlineData(CellKind.Rnn, 0)]
    [InlineData(CellKind.Lstm, 0)]
    [InlineData(CellKind.Lstm, 64)]
    [InlineData(CellKind.Gru, 0)]
    public void A_cpu_step_allocates_nothing(CellKind cell, int proj)
    {
        using var acc = RnnGpu.Accelerators.Backends.Open("cpu");
        using var model = RnnModel.Create(new RnnConfig(64, 256, 2, OutputSize: 8, Cell: cell, ProjSize: proj), acc, seed: 1);
        using var stream = model.CreateStream();
        var x = Numerics.Random(new Random(1), 64);
        var y = new float[8];
        // JIT and first-use paths: for half a second, so the team's speed checks (TeamHealth: 100 ms windows) have run steps
        // both shared and alone on this thread, whichever they settle on during the measured steps.
        var warm = System.Diagnostics.Stopwatch.StartNew();
        for (int i = 0; i < 50 || warm.ElapsedMilliseconds < 500; i++) stream.Step(x, y);
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 200; i++) stream.Step(x, y);
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }
}
