
namespace RnnGpu.Accelerators.Cpu;

/// <summary>
/// The managed back end: SIMD kernels on pinned arrays, both cores for large products. Kernels run
/// synchronously, so <see cref="Synchronize"/> has nothing to wait for. Needs no native library.
/// </summary>
public sealed unsafe partial class CpuAccelerator : Accelerator
{
    private int _threads;

    /// <param name="threads">The threads a kernel may use (see <see cref="Threads"/>); null: <see cref="DefaultThreads"/>.</param>
    public CpuAccelerator(int? threads = null) => Threads = threads ?? DefaultThreads;

    /// <summary>
    /// The cores this process may use, as .NET counts them (the affinity mask and a container's CPU quota
    /// included; DOTNET_PROCESSOR_COUNT overrides): the default <see cref="Threads"/>.
    /// </summary>
    public static int DefaultThreads => CpuTeam.DefaultThreads;

    /// <summary>The most <see cref="Threads"/> can be.</summary>
    public const int MaxThreads = CpuTeam.MaxThreads;

    /// <summary>
    /// How many threads one kernel may run on (1 to 64): the caller's and workers of one process-wide team.
    /// One runs while that measures faster than the team (a busy neighbour or a CPU quota: a team whose barriers
    /// each wait a time slice is slower than one thread). Results do not depend on the count.
    /// </summary>
    public int Threads
    {
        get => _threads;
        set => _threads = value is >= 1 and <= MaxThreads
            ? value
            : throw new ShapeException($"threads is {value}: the CPU back end runs 1 to {MaxThreads}");
    }

    /// <summary>
    /// How often since the process started the team changed its settled choice between sharing jobs and running them
    /// alone, each time because it measured the other 5% faster (see <see cref="Threads"/>); for benchmarks to report.
    /// </summary>
    public static int TeamSwitches => TeamHealth.Switches;

    /// <summary>Whether jobs now run alone because that measured faster than the team (see <see cref="TeamSwitches"/>).</summary>
    public static bool TeamSettledAlone => TeamHealth.SettledAlone;

    public override BackendKind Kind => BackendKind.Cpu;

    public override AcceleratorCapabilities Capabilities => new(ParallelCallers: true, Threads, HostMemory: true, Float64: true);

    public override string DeviceName => $"CPU ({Threads} threads, {SimdDescription})";

    internal static string SimdDescription =>
        System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated ? "AVX-512" :
        System.Runtime.Intrinsics.Vector256.IsHardwareAccelerated ? "AVX2" : "128-bit SIMD";

    protected override DeviceBuffer AllocateCore(long length) => new CpuBuffer(this, length);

    protected override bool TryGetHostSpanCore(Slice slice, out Span<float> span)
    {
        span = slice.Span();
        return true;
    }

    protected override void CopyInCore(ReadOnlySpan<float> source, Slice destination) => source.CopyTo(destination.Span());

    protected override void CopyOutCore(Slice source, Span<float> destination) => source.Span(destination.Length).CopyTo(destination);

    protected override void CopyCore(Slice source, Slice destination) => source.Span().CopyTo(destination.Span());

    protected override void FillCore(Slice destination, float value) => destination.Span().Fill(value);

    protected override void GemmCore(in GemmSpec spec, Slice a, Slice b, Slice c) =>
        CpuGemm.Run(spec, a.Pointer(), b.Pointer(), c.Pointer(), Threads, BatchInvariant);

    protected override void GemmBiasCore(in GemmSpec spec, Slice a, Slice b, Slice c, Slice bias) =>
        CpuGemm.Run(spec, a.Pointer(), b.Pointer(), c.Pointer(), Threads, BatchInvariant, bias.Pointer());

    protected override void AddBiasCore(int rows, int cols, Slice bias, Slice y) => CpuBias.Add(rows, cols, bias.Pointer(), y.Pointer(), Threads);

    protected override void ColumnSumCore(int rows, int cols, Slice x, Slice sum, float beta) =>
        CpuBias.ColumnSum(rows, cols, x.Pointer(), sum.Pointer(), beta, Threads);

    protected override void RnnStepForwardCore(Activation act, int batch, int hidden, Slice pre, Slice hPrev, Slice wHh, Slice h)
    {
        long bh = (long)batch * hidden;
        pre.Span(bh).CopyTo(h.Span(bh));
        if (BatchInvariant)
        {
            InvariantStep(act, batch, hidden, hPrev, wHh, h);
            return;
        }
        // h += hPrev W_hh^T: [batch, hidden] x [hidden, hidden]^T
        CpuGemm.Run(GemmSpec.Dense(false, true, batch, hidden, hidden, 1f, 1f), hPrev.Pointer(), wHh.Pointer(), h.Pointer(), Threads);
        ActivateRows(act, batch, hidden, h);
    }

    private static void ActivateRows(Activation act, int batch, int hidden, Slice h)
    {
        for (int b = 0; b < batch; b++) CpuActivation.Forward(act, h.Pointer() + (long)b * hidden, hidden);
    }

    /// <summary>
    /// h = act(h + hPrev W_hh^T) computed as the whole-sequence path computes it, so variable-length batches (which
    /// step) match a sequence run alone (which takes the sequence path): one step of the AVX-512 recurrence, or,
    /// where that path is the step loop, the blocked GEMM and a row-by-row activation.
    /// </summary>
    private void InvariantStep(Activation act, int batch, int hidden, Slice hPrev, Slice wHh, Slice h)
    {
        if (CpuRecurrence.Supported)
        {
            CpuRecurrence.Forward(act, batch, hidden, 1, hPrev.Pointer(), wHh.Pointer(), h.Pointer(), reverse: false, invariant: true, Threads);
            return;
        }
        CpuGemm.Run(GemmSpec.Dense(false, true, batch, hidden, hidden, 1f, 1f), hPrev.Pointer(), wHh.Pointer(), h.Pointer(), Threads, batchInvariant: true);
        ActivateRows(act, batch, hidden, h);
    }

    protected override void RnnInputStepForwardCore(Activation act, int batch, int hidden, int inputSize, Slice x, Slice wIh, Slice bIh, Slice bHh,
        Slice hPrev, Slice wHh, Slice h)
    {
        // A batch-invariant step must be the sequence path's arithmetic, which the one-pass kernel's sums are not.
        if (batch <= CpuInputStep.MaxRows && !BatchInvariant && CpuInputStep.Supported)
            CpuInputStep.Run(act, batch, hidden, inputSize, x.Pointer(), wIh.Pointer(), bIh.Pointer(), bHh.Pointer(), hPrev.Pointer(), wHh.Pointer(),
                h.Pointer(), Threads);
        else base.RnnInputStepForwardCore(act, batch, hidden, inputSize, x, wIh, bIh, bHh, hPrev, wHh, h);
    }

    protected override void RnnStepBackwardCore(Activation act, int batch, int hidden, Slice h, Slice wHh, Slice dhNext, Slice dPre, Slice dhPrev)
    {
        long bh = (long)batch * hidden;
        CpuElementwise.ActivationBackward(act, h.Span(bh), dhNext.Span(bh), dPre.Span(bh));
        // dhPrev = dPre W_hh: [batch, hidden] x [hidden, hidden]
        CpuGemm.Run(GemmSpec.Dense(false, false, batch, hidden, hidden), dPre.Pointer(), wHh.Pointer(), dhPrev.Pointer(), Threads);
    }

    /// <summary>A uniform batch, or a packed one forwards, is one team job (<see cref="CpuRecurrence"/>); a packed one in reverse goes run by run.</summary>
    protected override void RnnRecurrenceForwardCore(Activation act, ReadOnlySpan<int> stepRows, int hidden, Slice h0, Slice wHh, Slice states,
        bool reverse)
    {
        bool uniform = !stepRows.ContainsAnyExcept(stepRows[0]);
        if (CpuRecurrence.Supported && uniform)
            CpuRecurrence.Forward(act, stepRows[0], hidden, stepRows.Length, h0.Pointer(), wHh.Pointer(), states.Pointer(), reverse, BatchInvariant, Threads);
        else if (CpuRecurrence.Supported && !reverse)
            CpuRecurrence.ForwardPacked(act, stepRows, hidden, h0.Pointer(), wHh.Pointer(), states.Pointer(), BatchInvariant, Threads);
        else base.RnnRecurrenceForwardCore(act, stepRows, hidden, h0, wHh, states, reverse);
    }

    protected override void UniformRecurrenceForwardCore(Activation act, int batch, int hidden, int time, Slice h0, Slice wHh, Slice states, bool reverse)
    {
        if (CpuRecurrence.Supported) CpuRecurrence.Forward(act, batch, hidden, time, h0.Pointer(), wHh.Pointer(), states.Pointer(), reverse, BatchInvariant, Threads);
        else base.UniformRecurrenceForwardCore(act, batch, hidden, time, h0, wHh, states, reverse);
    }

    protected override void UniformRecurrenceBackwardCore(Activation act, int batch, int hidden, int time, Slice outputs, Slice wHh, Slice dPre, Slice dh,
        Slice scratch, bool reverse)
    {
        if (CpuRecurrence.Supported) CpuRecurrence.Backward(act, batch, hidden, time, outputs.Pointer(), wHh.Pointer(), dPre.Pointer(), dh.Pointer(), reverse, Threads);
        else base.UniformRecurrenceBackwardCore(act, batch, hidden, time, outputs, wHh, dPre, dh, scratch, reverse);
    }

    /// <summary>
    /// Without a projection, one team job: the blocked one (<see cref="CpuGatedBlockedRecurrence{TKernel}"/>) where the hidden size
    /// is whole blocks of its kernel and the rows are not too few (<see cref="CpuGatedBlocked.MinForwardRows"/>), else forwards over
    /// few rows the dot products' (<see cref="CpuGatedRecurrence"/>); the step loop otherwise.
    /// </summary>
    protected override void LstmRecurrenceForwardCore(ReadOnlySpan<int> stepRows, int hidden, int proj, Slice h0, Slice c0, Slice wHh, Slice wHr,
        Slice gates, Slice cells, Slice cellOutputs, Slice states, bool reverse)
    {
        if (CpuGatedBlocked.ForForward(hidden, proj, stepRows[0], BatchInvariant) is { } job)
            job.LstmForward(stepRows, hidden, proj, h0.Pointer(), c0.Pointer(), wHh.Pointer(), proj > 0 ? wHr.Pointer() : null, gates.Pointer(), cells.Pointer(),
                proj > 0 ? cellOutputs.Pointer() : null, states.Pointer(), reverse, Threads);
        else if (proj == 0 && !reverse && CpuGatedRecurrence.Takes(stepRows[0], hidden, BatchInvariant))
            CpuGatedRecurrence.Lstm(stepRows, hidden, h0.Pointer(), c0.Pointer(), wHh.Pointer(), gates.Pointer(), cells.Pointer(), states.Pointer(), Threads);
        else base.LstmRecurrenceForwardCore(stepRows, hidden, proj, h0, c0, wHh, wHr, gates, cells, cellOutputs, states, reverse);
    }

    /// <summary>Without a projection, one team job (<see cref="CpuGatedBlockedRecurrence{TKernel}"/>) where the hidden size fits its kernel; else the step loop.</summary>
    protected override void LstmRecurrenceBackwardCore(ReadOnlySpan<int> stepRows, int hidden, int proj, Slice c0, Slice wHh, Slice wHr, Slice gates,
        Slice cells, Slice dStates, Slice dGates, Slice dh, Slice dc, Slice scratch, bool reverse)
    {
        if (CpuGatedBlocked.For(hidden, proj) is { } job)
            job.LstmBackward(stepRows, hidden, proj, c0.Pointer(), wHh.Pointer(), proj > 0 ? wHr.Pointer() : null, gates.Pointer(), cells.Pointer(),
                dStates.Pointer(), dGates.Pointer(), dh.Pointer(), dc.Pointer(), proj > 0 ? scratch.Pointer() : null, reverse, Threads);
        else base.LstmRecurrenceBackwardCore(stepRows, hidden, proj, c0, wHh, wHr, gates, cells, dStates, dGates, dh, dc, scratch, reverse);
    }

    /// <summary>One team job as the LSTM's (the blocked one, else over few rows forwards the dot products'); else the step loop.</summary>
    protected override void GruRecurrenceForwardCore(ReadOnlySpan<int> stepRows, int hidden, Slice h0, Slice wHh, Slice bHh, Slice gates, Slice hn,
        Slice states, Slice scratch, bool reverse)
    {
        if (CpuGatedBlocked.ForForward(hidden, 0, stepRows[0], BatchInvariant) is { } job)
            job.GruForward(stepRows, hidden, h0.Pointer(), wHh.Pointer(), bHh.Pointer(), gates.Pointer(), hn.Pointer(), states.Pointer(), scratch.Pointer(),
                reverse, Threads);
        else if (!reverse && CpuGatedRecurrence.Takes(stepRows[0], hidden, BatchInvariant))
            CpuGatedRecurrence.Gru(stepRows, hidden, h0.Pointer(), wHh.Pointer(), bHh.Pointer(), gates.Pointer(), hn.Pointer(), states.Pointer(),
                scratch.Pointer(), Threads);
        else base.GruRecurrenceForwardCore(stepRows, hidden, h0, wHh, bHh, gates, hn, states, scratch, reverse);
    }

    /// <summary>One team job (<see cref="CpuGatedBlockedRecurrence{TKernel}"/>) where the hidden size fits its kernel; else the step loop.</summary>
    protected override void GruRecurrenceBackwardCore(ReadOnlySpan<int> stepRows, int hidden, Slice h0, Slice wHh, Slice gates, Slice hn, Slice states,
        Slice dStates, Slice dGates, Slice dGatesHidden, Slice dh, bool reverse)
    {
        if (CpuGatedBlocked.For(hidden) is { } job)
            job.GruBackward(stepRows, hidden, h0.Pointer(), wHh.Pointer(), gates.Pointer(), hn.Pointer(), states.Pointer(), dStates.Pointer(), dGates.Pointer(),
                dGatesHidden.Pointer(), dh.Pointer(), reverse, Threads);
        else base.GruRecurrenceBackwardCore(stepRows, hidden, h0, wHh, gates, hn, states, dStates, dGates, dGatesHidden, dh, reverse);
    }

    protected override void LstmPointwiseForwardCore(int batch, int hidden, Slice gates, Slice cPrev, Slice c, Slice m) =>
        CpuGates.LstmForward(batch, hidden, gates.Pointer(), cPrev.Pointer(), c.Pointer(), m.Pointer());

    protected override void LstmPointwiseBackwardCore(int batch, int hidden, Slice gates, Slice cPrev, Slice c, Slice dm, Slice dc, Slice dGates) =>
        CpuGates.LstmBackward(batch, hidden, gates.Pointer(), cPrev.Pointer(), c.Pointer(), dm.Pointer(), dc.Pointer(), dGates.Pointer());

    protected override void GruPointwiseForwardCore(int batch, int hidden, Slice gates, Slice a, Slice hPrev, Slice h, Slice hn) =>
        CpuGates.GruForward(batch, hidden, gates.Pointer(), a.Pointer(), hPrev.Pointer(), h.Pointer(), hn.Pointer());

    protected override void GruPointwiseBackwardCore(int batch, int hidden, Slice gates, Slice hn, Slice hPrev, Slice dh, Slice dGates,
        Slice dGatesHidden, Slice dhPrev, bool accumulate) =>
        CpuGates.GruBackward(batch, hidden, gates.Pointer(), hn.Pointer(), hPrev.Pointer(), dh.Pointer(), dGates.Pointer(), dGatesHidden.Pointer(),
            dhPrev.Pointer(), accumulate);

    protected override void SoftmaxCrossEntropyCore(int rows, int classes, Slice logits, Slice targets, Slice dLogits, Slice loss, float gradScale)
    {
        long n = (long)rows * classes;
        CpuElementwise.SoftmaxCrossEntropy(rows, classes, logits.Span(n), targets.Span(rows), dLogits.Span(n), loss.Span(rows), gradScale);
    }

    protected override void MseLossCore(int n, Slice pred, Slice target, Slice dPred, Slice loss, float gradScale) =>
        CpuElementwise.MseLoss(pred.Span(n), target.Span(n), dPred.Span(n), loss.Span(n), gradScale);

    protected override void BceWithLogitsLossCore(int n, Slice logits, Slice target, Slice dLogits, Slice loss, float gradScale) =>
        CpuElementwise.BceWithLogitsLoss(logits.Span(n), target.Span(n), dLogits.Span(n), loss.Span(n), gradScale);

    protected override void MultiplyCore(Slice a, Slice b, Slice y) =>
        CpuVectors.Multiply(a.Span(y.Length), b.Span(y.Length), y.Span());

    protected override void ScaleCore(Slice x, float alpha)
    {
        var s = x.Span();
        CpuVectors.Scale(s, alpha, s);
    }

    protected override double SquaredNormCore(Slice x) => CpuElementwise.SquaredNorm(x.Span());

    protected override void SgdUpdateCore(Slice param, Slice grad, Slice momentum, in SgdStep step) =>
        CpuElementwise.SgdUpdate(param.Span(), grad.Span(param.Length), momentum.Span(param.Length), step);

    protected override void AdamUpdateCore(Slice param, Slice grad, Slice m, Slice v, in AdamStep step) =>
        CpuElementwise.AdamUpdate(param.Span(), grad.Span(param.Length), m.Span(param.Length), v.Span(param.Length), step);

    public override void Synchronize() { }

    public override void Dispose() { }
}
