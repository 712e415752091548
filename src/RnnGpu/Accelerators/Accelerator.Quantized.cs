namespace RnnGpu.Accelerators;

/// <summary>
/// Inference with quantized weights (<see cref="QuantizedMatrix"/>): the products of the input projection, the recurrence
/// and the head. Each call has the float32 call's contract with the weight matrix quantized. By default the recurrences run
/// step by step over <see cref="QuantizedGemmCore"/> and <see cref="QuantizedRnnStepForwardCore"/>, which run the float32
/// kernels on <see cref="QuantizedMatrix.Dequantized"/>: every back end computes with the quantized weights' values. A back
/// end with quantized kernels overrides the products (ILGPU's read the stored int8 or bf16 values) or whole recurrences (the CPU's).
/// </summary>
public abstract partial class Accelerator
{
    /// <summary>
    /// C = A W[:, column .. column + K]^T + beta C (+ bias): spec is A [M, K] (not transposed) times W's columns, B transposed,
    /// alpha 1, beta 0 or 1, Ldb the matrix's columns, N its rows; bias [N] or default for none.
    /// </summary>
    public void Gemm(in GemmSpec spec, Slice a, QuantizedMatrix b, int column, Slice c, Slice bias = default)
    {
        spec.Validate();
        if (spec.TransA || !spec.TransB || spec.BatchCount != 1 || spec.Alpha != 1f || spec.Beta is not (0f or 1f) || spec.N != b.Rows || spec.Ldb != b.Cols)
            throw new ShapeException($"a product with quantized weights [{b.Rows}, {b.Cols}] is A [M, K] times their columns transposed (alpha 1, beta 0 or 1, one batch, N {b.Rows}, ldb {b.Cols})");
        if (column < 0 || column + spec.K > b.Cols)
            throw new ShapeException($"columns [{column}, {column + spec.K}) lie outside quantized weights of {b.Cols} columns");
        Check(a, spec.ExtentA, "A");
        Check(c, spec.ExtentC, "C");
        if (bias.Buffer is not null)
        {
            Check(bias, spec.N, nameof(bias));
            CheckDisjoint(c, "C", (bias, nameof(bias)));
        }
        if (spec.M == 0 || spec.N == 0) return;
        QuantizedGemmCore(spec, a, b, column, c, bias);
    }

    protected virtual void QuantizedGemmCore(in GemmSpec spec, Slice a, QuantizedMatrix b, int column, Slice c, Slice bias)
    {
        var w = b.Dequantized.Sub(column, b.Dequantized.Length - column);
        if (bias.Buffer is null) Gemm(spec, a, w, c);
        else Gemm(spec, a, w, c, bias);
    }

    /// <summary><see cref="RnnRecurrenceForward(Activation, ReadOnlySpan{int}, int, Slice, Slice, Slice, bool)"/> with W_hh quantized.</summary>
    public void RnnRecurrenceForward(Activation act, ReadOnlySpan<int> stepRows, int hidden, Slice h0, QuantizedMatrix wHh, Slice states, bool reverse = false)
    {
        CheckQuantized(wHh, hidden, hidden, nameof(wHh));
        RnnRecurrenceForward(act, stepRows, hidden, h0, wHh.Dequantized, states, reverse, quantized: wHh);
    }

    /// <summary><see cref="LstmRecurrenceForward(ReadOnlySpan{int}, int, int, Slice, Slice, Slice, Slice, Slice, Slice, Slice, Slice, bool)"/> with W_hh (and W_hr) quantized.</summary>
    public void LstmRecurrenceForward(ReadOnlySpan<int> stepRows, int hidden, int proj, Slice h0, Slice c0, QuantizedMatrix wHh, QuantizedMatrix? wHr,
        Slice gates, Slice cells, Slice cellOutputs, Slice states, bool reverse = false)
    {
        int s = proj > 0 ? proj : hidden;
        CheckQuantized(wHh, 4 * hidden, s, nameof(wHh));
        if (proj > 0)
        {
            if (wHr is null) throw new ShapeException($"an LSTM with proj size {proj} needs its W_hr");
            CheckQuantized(wHr, proj, hidden, nameof(wHr));
            if (wHr.Kind != wHh.Kind) throw new ShapeException($"W_hh is {wHh.Kind.ToName()} but W_hr is {wHr.Kind.ToName()}");
        }
        LstmRecurrenceForward(stepRows, hidden, proj, h0, c0, wHh.Dequantized, proj > 0 ? wHr!.Dequantized : default, gates, cells, cellOutputs, states,
            reverse, wHh, proj > 0 ? wHr : null);
    }

    /// <summary><see cref="GruRecurrenceForward(ReadOnlySpan{int}, int, Slice, Slice, Slice, Slice, Slice, Slice, Slice, bool)"/> with W_hh quantized.</summary>
    public void GruRecurrenceForward(ReadOnlySpan<int> stepRows, int hidden, Slice h0, QuantizedMatrix wHh, Slice bHh, Slice gates, Slice hn, Slice states,
        Slice scratch, bool reverse = false)
    {
        CheckQuantized(wHh, 3 * hidden, hidden, nameof(wHh));
        GruRecurrenceForward(stepRows, hidden, h0, wHh.Dequantized, bHh, gates, hn, states, scratch, reverse, quantized: wHh);
    }

    /// <summary>
    /// Step by step, each segment of a step's rows from its previous states (packed variable lengths, either direction):
    /// states [rows, H] hold the pre-activations on entry and h on return.
    /// </summary>
    protected virtual void QuantizedRnnRecurrenceForwardCore(Activation act, ReadOnlySpan<int> stepRows, int hidden, Slice h0, QuantizedMatrix wHh,
        Slice states, bool reverse)
    {
        var steps = new PackedSteps(stepRows, stepRows.Length <= 1024 ? stackalloc long[stepRows.Length] : new long[stepRows.Length], reverse);
        Span<PackedSteps.Segment> segments = stackalloc PackedSteps.Segment[2];
        for (int i = 0; i < steps.Time; i++)
        {
            int t = steps.StepAt(i);
            long row = steps.FirstRow(t);
            foreach (var seg in segments[..steps.Segments(t, segments)])
            {
                long first = row + seg.First, source = seg.FromInitial ? seg.First : steps.FirstRow(seg.Source) + seg.First, n = (long)seg.Count * hidden;
                QuantizedRnnStepForwardCore(act, seg.Count, hidden, (seg.FromInitial ? h0 : states).Sub(source * hidden, n), wHh, states.Sub(first * hidden, n));
            }
        }
    }

    /// <summary>One step in place: h [batch, H] = act(h + hPrev W_hh^T), h holding the pre-activations on entry.</summary>
    protected virtual void QuantizedRnnStepForwardCore(Activation act, int batch, int hidden, Slice hPrev, QuantizedMatrix wHh, Slice h) =>
        RnnStepForwardCore(act, batch, hidden, h, hPrev, wHh.Dequantized, h);

    protected virtual void QuantizedLstmRecurrenceForwardCore(ReadOnlySpan<int> stepRows, int hidden, int proj, Slice h0, Slice c0, QuantizedMatrix wHh,
        QuantizedMatrix? wHr, Slice gates, Slice cells, Slice cellOutputs, Slice states, bool reverse) =>
        LstmStepwiseForward(stepRows, hidden, proj, h0, c0, wHh.Dequantized, wHh, wHr?.Dequantized ?? default, wHr, gates, cells, cellOutputs, states, reverse);

    protected virtual void QuantizedGruRecurrenceForwardCore(ReadOnlySpan<int> stepRows, int hidden, Slice h0, QuantizedMatrix wHh, Slice bHh, Slice gates,
        Slice hn, Slice states, Slice scratch, bool reverse) =>
        GruStepwiseForward(stepRows, hidden, h0, wHh.Dequantized, wHh, bHh, gates, hn, states, scratch, reverse);

    /// <summary>C = A W^T + beta C (+ bias) with W float32, or through the quantized product when <paramref name="quantized"/> is given.</summary>
    private void WeightProduct(in GemmSpec spec, Slice a, Slice w, QuantizedMatrix? quantized, Slice c, Slice bias = default)
    {
        if (quantized is not null) QuantizedGemmCore(spec, a, quantized, 0, c, bias);
        else if (bias.Buffer is null) GemmCore(spec, a, w, c);
        else GemmBiasCore(spec, a, w, c, bias);
    }

    /// <summary>Frees what this accelerator keeps of <paramref name="weights"/> beside their float32 values (a device copy), if anything; their owner calls it as it lets them go.</summary>
    public virtual void Release(QuantizedMatrix weights) { }

    /// <summary>The matrix is [rows, cols] and its float32 twin lives on this accelerator.</summary>
    private void CheckQuantized(QuantizedMatrix w, int rows, int cols, string name)
    {
        if (w.Rows != rows || w.Cols != cols) throw new ShapeException($"{name}: quantized weights [{w.Rows}, {w.Cols}], expected [{rows}, {cols}]");
        Check(w.Dequantized, (long)rows * cols, $"{name} (float32 values)");
    }
}
