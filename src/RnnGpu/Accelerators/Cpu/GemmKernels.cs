namespace RnnGpu.Accelerators.Cpu;

/// <summary>
/// A register-blocked micro-kernel: one Mr x Nr tile of C from a packed A micro-panel [kc][Mr]
/// (Mr values of one column of op(A) per step) and Nr columns of op(B) read as rows of Nr floats
/// bStride apart (a packed panel [kc][Nr], or B itself when stored [K, N]).
/// Store: C = alpha acc + beta C, where beta == 0 never reads C (it may hold NaN), then + bias[0..Nr) when bias is not null.
/// </summary>
internal unsafe interface IGemmKernel
{
    static abstract int Mr { get; }
    static abstract int Nr { get; }
    static abstract void Run(int kc, float* a, float* b, long bStride, float* c, long ldc, float alpha, float beta, float* bias);

    /// <summary>The rows of the kernel's shorter tile (Mr where it has none): <see cref="RunShort"/> stores only them.</summary>
    static abstract int ShortMr { get; }

    /// <summary><see cref="Run"/> for the first <see cref="ShortMr"/> rows of the micro-panel (still [kc][Mr]), each element summed and stored as Run does it.</summary>
    static abstract void RunShort(int kc, float* a, float* b, long bStride, float* c, long ldc, float alpha, float beta, float* bias);
}
