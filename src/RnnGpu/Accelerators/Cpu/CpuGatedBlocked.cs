namespace RnnGpu.Accelerators.Cpu;

/// <summary>The gated recurrences over many rows as one team job (<see cref="CpuGatedBlockedRecurrence{TKernel}"/>), whatever its kernel.</summary>
internal unsafe interface IGatedBlockedRecurrence
{
    /// <summary>See <see cref="Accelerator.LstmRecurrenceForward"/>.</summary>
    void LstmForward(ReadOnlySpan<int> stepRows, int hidden, int proj, float* h0, float* c0, float* wHh, float* wHr, float* gates, float* cells,
        float* cellOutputs, float* states, bool reverse, int threads);

    /// <summary>See <see cref="Accelerator.GruRecurrenceForward"/>.</summary>
    void GruForward(ReadOnlySpan<int> stepRows, int hidden, float* h0, float* wHh, float* bHh, float* gates, float* hn, float* states, float* scratch,
        bool reverse, int threads);

    /// <summary>See <see cref="Accelerator.LstmRecurrenceBackward"/>.</summary>
    void LstmBackward(ReadOnlySpan<int> stepRows, int hidden, int proj, float* c0, float* wHh, float* wHr, float* gates, float* cells, float* dStates,
        float* dGates, float* dh, float* dc, float* scratch, bool reverse, int threads);

    /// <summary>See <see cref="Accelerator.GruRecurrenceBackward"/>.</summary>
    void GruBackward(ReadOnlySpan<int> stepRows, int hidden, float* h0, float* wHh, float* gates, float* hn, float* states, float* dStates,
        float* dGates, float* dGatesHidden, float* dh, bool reverse, int threads);
}

/// <summary>Picks the job of the GEMM kernels this thread runs (<see cref="GemmIsaChoice"/>).</summary>
internal static class CpuGatedBlocked
{
    /// <summary>
    /// From this many rows on a forward pass runs faster here than as <see cref="CpuGatedRecurrence"/>'s dot products (`rnngpu
    /// bench --mode infer` at 100 × 64 × 256, two cores, AVX2, 3 interleaved rounds: LSTM 2 rows 1.5-2.1 ms either way, 3 rows
    /// 2.0-2.5 here against 2.4-2.9, 8 rows 3.9-5.3 against 5.4-6.8; batch 1 1.0-1.3 there against 1.5-1.7 here; the GRU alike).
    /// </summary>
    public const int MinForwardRows = 3;

    /// <summary>
    /// This thread's job, or null when its kernels are scalar or the hidden size (and an LSTM's projection, 0 for none) is
    /// not whole blocks of their width.
    /// </summary>
    public static IGatedBlockedRecurrence? For(int hidden, int proj = 0) => GemmIsaChoice.Current switch
    {
        GemmIsa.Vector512 when Whole(hidden, proj, GemmKernel512.Nr) => CpuGatedBlockedRecurrence<GemmKernel512>.ForThisThread(),
        GemmIsa.Vector256 when Whole(hidden, proj, GemmKernel256.Nr) => CpuGatedBlockedRecurrence<GemmKernel256>.ForThisThread(),
        _ => null,
    };

    private static bool Whole(int hidden, int proj, int width) => hidden % width == 0 && proj % width == 0;

    /// <summary>
    /// <see cref="For"/> for a forward pass from <see cref="MinForwardRows"/> rows, or any rows in a batch-invariant pass (which
    /// the dot products' order would break) or with a projection (which the dot products' job has not).
    /// </summary>
    public static IGatedBlockedRecurrence? ForForward(int hidden, int proj, int rows, bool invariant) =>
        rows >= MinForwardRows || invariant || proj > 0 ? For(hidden, proj) : null;
}
