namespace RnnGpu.Accelerators.Cpu;

/// <summary>The gated recurrences over many rows as one team job (<see cref="CpuGatedBlockedRecurrence{TKernel}"/>), whatever its kernel.</summary>
internal unsafe interface IGatedBlockedRecurrence
{
    /// <summary>See <see cref="Accelerator.LstmRecurrenceForward"/> without a projection.</summary>
    void LstmForward(ReadOnlySpan<int> stepRows, int hidden, float* h0, float* c0, float* wHh, float* gates, float* cells, float* states, bool reverse,
        int threads);

    /// <summary>See <see cref="Accelerator.GruRecurrenceForward"/>.</summary>
    void GruForward(ReadOnlySpan<int> stepRows, int hidden, float* h0, float* wHh, float* bHh, float* gates, float* hn, float* states, float* scratch,
        bool reverse, int threads);

    /// <summary>See <see cref="Accelerator.LstmRecurrenceBackward"/> without a projection.</summary>
    void LstmBackward(ReadOnlySpan<int> stepRows, int hidden, float* c0, float* wHh, float* gates, float* cells, float* dStates, float* dGates,
        float* dh, float* dc, bool reverse, int threads);

    /// <summary>See <see cref="Accelerator.GruRecurrenceBackward"/>.</summary>
    void GruBackward(ReadOnlySpan<int> stepRows, int hidden, float* h0, float* wHh, float* gates, float* hn, float* states, float* dStates,
        float* dGates, float* dGatesHidden, float* dh, bool reverse, int threads);
}

/// <summary>Picks the job of the GEMM kernels this thread runs (<see cref="GemmIsaChoice"/>).</summary>
internal static class CpuGatedBlocked
{
    /// <summary>This thread's job, or null when its kernels are scalar or the hidden size is not whole blocks of their width.</summary>
    public static IGatedBlockedRecurrence? For(int hidden) => GemmIsaChoice.Current switch
    {
        GemmIsa.Vector512 when hidden % GemmKernel512.Nr == 0 => CpuGatedBlockedRecurrence<GemmKernel512>.ForThisThread(),
        GemmIsa.Vector256 when hidden % GemmKernel256.Nr == 0 => CpuGatedBlockedRecurrence<GemmKernel256>.ForThisThread(),
        _ => null,
    };
}
