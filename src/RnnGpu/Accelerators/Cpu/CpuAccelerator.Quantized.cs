namespace RnnGpu.Accelerators.Cpu;

/// <summary>
/// The CPU back end's products with quantized weights: the recurrences always (<see cref="CpuQuantizedRecurrence"/>, any
/// rows: each step reads all of W_hh), a GEMM over few rows (<see cref="CpuQuantizedGemm"/>), and over many rows the
/// float32 GEMM on the dequantized twin, which is compute-bound there and faster than int8 products without VNNI. A
/// batch-invariant pass takes the quantized product at any rows, so that a row's result does not depend on its batch.
/// </summary>
public sealed unsafe partial class CpuAccelerator
{
    protected override void QuantizedGemmCore(in GemmSpec spec, Slice a, QuantizedMatrix b, int column, Slice c, Slice bias)
    {
        if (spec.M > CpuQuantizedGemm.MaxRows && !BatchInvariant)
        {
            base.QuantizedGemmCore(spec, a, b, column, c, bias);
            return;
        }
        CpuQuantizedGemm.Run(spec.M, spec.K, a.Pointer(), spec.Lda, b, column, c.Pointer(), spec.Ldc, accumulate: spec.Beta != 0f,
            bias.Buffer is null ? null : bias.Pointer(), Threads);
    }

    protected override void QuantizedRnnRecurrenceForwardCore(Activation act, ReadOnlySpan<int> stepRows, int hidden, Slice h0, QuantizedMatrix wHh,
        Slice states, bool reverse) =>
        CpuQuantizedRecurrence.Rnn(act, stepRows, hidden, h0.Pointer(), wHh, states.Pointer(), reverse, Threads);

    protected override void QuantizedLstmRecurrenceForwardCore(ReadOnlySpan<int> stepRows, int hidden, int proj, Slice h0, Slice c0, QuantizedMatrix wHh,
        QuantizedMatrix? wHr, Slice gates, Slice cells, Slice cellOutputs, Slice states, bool reverse) =>
        CpuQuantizedRecurrence.Lstm(stepRows, hidden, proj, h0.Pointer(), c0.Pointer(), wHh, wHr, gates.Pointer(), cells.Pointer(),
            proj > 0 ? cellOutputs.Pointer() : null, states.Pointer(), reverse, Threads);

    protected override void QuantizedGruRecurrenceForwardCore(ReadOnlySpan<int> stepRows, int hidden, Slice h0, QuantizedMatrix wHh, Slice bHh, Slice gates,
        Slice hn, Slice states, Slice scratch, bool reverse) =>
        CpuQuantizedRecurrence.Gru(stepRows, hidden, h0.Pointer(), wHh, bHh.Pointer(), gates.Pointer(), hn.Pointer(), states.Pointer(), scratch.Pointer(),
            reverse, Threads);
}
