using RnnGpu.Accelerators.Cpu;
using RnnGpu.Model;
using RnnGpu.Tests.Model;
using RnnGpu.Tests.Support;
using RnnGpu.Training;

namespace RnnGpu.Tests.Kernels;

/// <summary>
/// The CPU's fused gated recurrences (one team job, each member a stripe of the units): over few rows the dot products'
/// forward job, over more the blocked job forward and backward; at sizes where the team shares them, packed lengths, both
/// directions and both cells, against the float64 reference, and the same bits on one thread as on two.
/// </summary>
public sealed class GatedRecurrenceTests
{
    [Theory]
    // Rows the blocked job leaves to the dot products (at most 2), or hidden sizes it does not fit (8-unit stripes, not 16).
    [InlineData(CellKind.Lstm, 5, 72)]
    [InlineData(CellKind.Lstm, 1, 128)]
    [InlineData(CellKind.Gru, 7, 56)]
    [InlineData(CellKind.Gru, 2, 120)]
    public void The_team_job_matches_the_reference_and_its_thread_count_changes_nothing(CellKind cell, int batch, int hidden) =>
        Check(new RnnConfig(5, hidden, 2, OutputSize: 3, Cell: cell), batch, time: 9, lengthSpread: 4, seed: 3);

    [Theory]
    [InlineData(CellKind.Lstm, 13, 64, false, 0)]
    [InlineData(CellKind.Lstm, 29, 32, true, 0)]
    [InlineData(CellKind.Lstm, 11, 64, true, 32)]
    [InlineData(CellKind.Lstm, 2, 96, false, 64)]
    [InlineData(CellKind.Gru, 9, 64, true, 0)]
    [InlineData(CellKind.Gru, 20, 96, false, 0)]
    public void The_blocked_job_matches_the_reference_forward_and_backward_and_its_thread_count_changes_nothing(CellKind cell, int batch, int hidden,
        bool bidirectional, int proj)
    {
        Assert.NotNull(CpuGatedBlocked.For(hidden, proj));   // the job these sizes are for, on this machine's kernels
        Check(new RnnConfig(6, hidden, 2, OutputSize: 3, Bidirectional: bidirectional, Cell: cell, ProjSize: proj), batch, time: 7, lengthSpread: 5,
            seed: 4, backward: true);
    }

    /// <summary>
    /// The model on two threads and its copy on one, over packed lengths from the time down by up to lengthSpread - 1: the
    /// same bits forward (and, with <paramref name="backward"/>, in every BPTT gradient; their finite differences are
    /// GradientCheckTests'), and the forward pass against the float64 reference.
    /// </summary>
    private static void Check(RnnConfig config, int batch, int time, int lengthSpread, int seed, bool backward = false)
    {
        int groups = config.NumLayers * config.Directions, hidden = config.HiddenSize, size = config.StateSize, input = config.InputSize;
        var rng = new Random(batch * hidden);
        var x = new Tensor(Numerics.Random(rng, batch * time * input), batch, time, input);
        var h0 = new Tensor(Numerics.Random(rng, groups * batch * size, 0.5f), groups, batch, size);
        var c0 = config.HasCellState ? new Tensor(Numerics.Random(rng, groups * batch * hidden, 0.5f), groups, batch, hidden) : null;
        int[] lengths = Enumerable.Range(0, batch).Select(b => time - b % lengthSpread).ToArray();

        using var two = new CpuAccelerator(threads: 2);
        using var one = new CpuAccelerator(threads: 1);
        using var model = RnnModel.Create(config, two, seed);
        using var alone = RnnModel.FromParameters(config, one, model.StateDict());
        var shared = model.Forward(x, h0, lengths, c0);
        var single = alone.Forward(x, h0, lengths, c0);
        Assert.Equal(single.Output.Data, shared.Output.Data);
        Assert.Equal(single.FinalState.Data, shared.FinalState.Data);
        if (c0 is not null) Assert.Equal(single.FinalCell!.Data, shared.FinalCell!.Data);
        var (output, hn, cn) = ReferenceRnn.FromModel(model).Run(Numerics.ToDouble(x), Numerics.ToDouble(h0), c0 is null ? null : Numerics.ToDouble(c0),
            batch, time, lengths);
        Numerics.AssertClose(output, shared.Output.Data, 1e-4, 1e-5, "output");
        Numerics.AssertClose(hn, shared.FinalState.Data, 1e-4, 1e-5, "h_n");
        if (c0 is not null) Numerics.AssertClose(cn, shared.FinalCell!.Data, 1e-4, 1e-5, "c_n");
        if (!backward) return;

        var target = new Tensor(Numerics.Random(rng, batch * time * config.OutputSize), batch, time, config.OutputSize);
        var gradients = model.ComputeGradients(x, target, LossKind.Mse, h0, lengths, initialCell: c0);
        var gradientsAlone = alone.ComputeGradients(x, target, LossKind.Mse, h0, lengths, initialCell: c0);
        Assert.Equal(gradientsAlone.Loss, gradients.Loss);
        foreach (var (name, value) in gradientsAlone.Parameters) Assert.Equal(value.Data, gradients.Parameters[name].Data);
        Assert.Equal(gradientsAlone.Input.Data, gradients.Input.Data);
        Assert.Equal(gradientsAlone.InitialState.Data, gradients.InitialState.Data);
        if (c0 is not null) Assert.Equal(gradientsAlone.InitialCell!.Data, gradients.InitialCell!.Data);
    }
}
