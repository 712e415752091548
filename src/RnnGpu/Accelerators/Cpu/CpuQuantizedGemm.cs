namespace RnnGpu.Accelerators.Cpu;

/// <summary>
/// C = A W[:, column .. column + K]^T + beta C (+ bias) with quantized W over few rows of A (a stream's step, a short batch),
/// where reading W is the cost: A is prepared once by the caller (<see cref="CpuQuantizedProduct.Prepare"/>), then the
/// team shares out W's rows (C's columns) in blocks of 8. Many rows make the product compute-bound, and there the float32
/// GEMM over the dequantized twin is faster (the CPU back end's choice, <see cref="MaxRows"/>).
/// </summary>
internal sealed unsafe class CpuQuantizedGemm : ITeamWork
{
    /// <summary>The rows up to which the quantized product beats the float32 GEMM over the dequantized weights.</summary>
    public const int MaxRows = 16;
    private const long TeamMacs = 1L << 16;

    [ThreadStatic] private static CpuQuantizedGemm? _cached;
    [ThreadStatic] private static PinnedScratch? _space;

    private byte* _prepared;
    private float* _scales, _c, _bias;
    private int _rows, _k, _column, _ldc;
    private bool _accumulate;
    private QuantizedMatrix? _w;

    /// <summary>c [m, N] (row stride ldc) = A [m, k] (row stride lda) W[:, column .. column + k]^T + (beta 1: c) (+ bias [N]).</summary>
    public static void Run(int m, int k, float* a, long lda, QuantizedMatrix w, int column, float* c, int ldc, bool accumulate, float* bias, int threads)
    {
        var work = _cached ?? new CpuQuantizedGemm();
        _cached = null;
        try
        {
            long bytes = (long)m * CpuQuantizedProduct.RowBytes(w.Kind, k);
            work._prepared = (byte*)(_space ??= new PinnedScratch()).For(bytes / sizeof(float) + m + 16);
            work._scales = (float*)(work._prepared + (bytes + 63) / 64 * 64);
            CpuQuantizedProduct.Prepare(w.Kind, a, m, k, lda, work._prepared, work._scales);
            (work._rows, work._k, work._column, work._ldc, work._accumulate, work._w) = (m, k, column, ldc, accumulate, w);
            work._c = c;
            work._bias = bias;
            long macs = (long)m * w.Rows * k;
            if (macs < TeamMacs) work.Run(0, 1);
            else CpuTeam.Run(work, threads, 2.0 * macs);
        }
        finally
        {
            work._prepared = null;
            work._scales = work._c = work._bias = null;
            work._w = null;
            _cached = work;
        }
    }

    public void Run(int member, int members)
    {
        var (j0, j1) = CpuQuantizedProduct.Stripe(_w!.Rows, member, members);
        if (j1 > j0) CpuQuantizedProduct.Rows(_prepared, _scales, _rows, _k, _w, _column, _c, _ldc, j0, j1, _accumulate, _bias);
    }
}
