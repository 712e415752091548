using RnnGpu.Accelerators.Cpu;
using RnnGpu.Model;
using RnnGpu.Tests.Model;
using RnnGpu.Tests.Support;

namespace RnnGpu.Tests.Kernels;

/// <summary>
/// The CPU's fused gated recurrence (few rows, one team job, each member a stripe of the units): at sizes where the team
/// shares it, packed lengths and both cells, against the float64 reference, and the same bits on one thread as on two.
/// </summary>
public sealed class GatedRecurrenceTests
{
    [Theory]
    [InlineData(CellKind.Lstm, 7, 64)]
    [InlineData(CellKind.Lstm, 1, 128)]
    [InlineData(CellKind.Gru, 8, 64)]
    [InlineData(CellKind.Gru, 3, 96)]
    public void The_team_job_matches_the_reference_and_its_thread_count_changes_nothing(CellKind cell, int batch, int hidden)
    {
        const int time = 9, input = 5;
        var config = new RnnConfig(input, hidden, 2, OutputSize: 3, Cell: cell);
        var rng = new Random(batch + hidden);
        var x = new Tensor(Numerics.Random(rng, batch * time * input), batch, time, input);
        var h0 = new Tensor(Numerics.Random(rng, 2 * batch * hidden, 0.5f), 2, batch, hidden);
        var c0 = cell == CellKind.Lstm ? new Tensor(Numerics.Random(rng, 2 * batch * hidden, 0.5f), 2, batch, hidden) : null;
        int[] lengths = Enumerable.Range(0, batch).Select(b => time - b % 4).ToArray();

        using var two = new CpuAccelerator(threads: 2);
        using var one = new CpuAccelerator(threads: 1);
        using var model = RnnModel.Create(config, two, seed: 3);
        using var alone = RnnModel.FromParameters(config, one, model.StateDict());
        var shared = model.Forward(x, h0, lengths, c0);
        var single = alone.Forward(x, h0, lengths, c0);
        Assert.Equal(single.Output.Data, shared.Output.Data);
        Assert.Equal(single.FinalState.Data, shared.FinalState.Data);

        var (output, hn, cn) = ReferenceRnn.FromModel(model).Run(Numerics.ToDouble(x), Numerics.ToDouble(h0), c0 is null ? null : Numerics.ToDouble(c0),
            batch, time, lengths);
        Numerics.AssertClose(output, shared.Output.Data, 1e-4, 1e-5, "output");
        Numerics.AssertClose(hn, shared.FinalState.Data, 1e-4, 1e-5, "h_n");
        if (c0 is not null)
        {
            Assert.Equal(single.FinalCell!.Data, shared.FinalCell!.Data);
            Numerics.AssertClose(cn, shared.FinalCell.Data, 1e-4, 1e-5, "c_n");
        }
    }
}
