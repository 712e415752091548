namespace RnnGpu.Accelerators.Cpu;

/// <summary>
/// Row-major SGEMM for the CPU: C = alpha op(A) op(B) + beta C, batch after batch.
/// Most products go through the cache-blocked, packed driver (<see cref="GemmBlocked{TKernel}"/>) with the
/// widest micro-kernel the CPU runs (8 x 32 Vector512, 6 x 16 Vector256, or scalar). A product with few
/// rows and B transposed (the recurrent step: h_prev [B, H] x W_hh^T) would spend more time packing B
/// than multiplying, so it takes dot products of contiguous rows instead (<see cref="CpuGemmDot"/>);
/// with few rows and B stored [K, N], B is read in place. Results do not depend on the thread count.
/// The blocked path computes each element the same way whatever M and the row's place (K sliced by K alone,
/// one FMA chain per slice, edge tiles stored with the full tiles' rounding), so batch-invariant callers
/// skip the dot products, whose sums are ordered differently.
/// </summary>
internal static unsafe class CpuGemm
{
    /// <summary>Up to this many rows, B stored [K, N] is read in place rather than packed.</summary>
    private const int UnpackedBMaxRows = 32;

    /// <summary>C = alpha op(A) op(B) + beta C (+ bias [N] on every row when given: one product only).</summary>
    public static void Run(in GemmSpec s, float* a, float* b, float* c, int threads, bool batchInvariant = false, float* bias = null)
    {
        var isa = GemmIsaChoice.Current;
        for (int batch = 0; batch < s.BatchCount; batch++)
            RunOne(s, isa, a + batch * s.StrideA, b + batch * s.StrideB, c + batch * s.StrideC, threads, batchInvariant, bias);
    }

    private static void RunOne(in GemmSpec s, GemmIsa isa, float* a, float* b, float* c, int threads, bool batchInvariant, float* bias)
    {
        if (s.M == 0 || s.N == 0) return;
        if (s.K == 0 || s.Alpha == 0f || (s.TransB && !s.TransA && s.M <= CpuGemmDot.MaxRows && !batchInvariant))
        {
            // Few rows: the bias after the product costs nothing worth fusing.
            if (s.K == 0 || s.Alpha == 0f) ScaleC(s, c);
            else CpuGemmDot.Run(s, isa, a, b, c, threads);
            if (bias is not null)
                for (int i = 0; i < s.M; i++) CpuVectors.Add(new Span<float>(c + (long)i * s.Ldc, s.N), new ReadOnlySpan<float>(bias, s.N), new Span<float>(c + (long)i * s.Ldc, s.N));
            return;
        }
        bool packB = s.TransB || s.M > UnpackedBMaxRows;
        switch (isa)
        {
            case GemmIsa.Vector512: GemmBlocked<GemmKernel512>.Run(s, a, b, c, packB, threads, bias); break;
            case GemmIsa.Vector256: GemmBlocked<GemmKernel256>.Run(s, a, b, c, packB, threads, bias); break;
            default: GemmBlocked<GemmKernelScalar>.Run(s, a, b, c, packB, threads, bias); break;
        }
    }

    /// <summary>C = beta C, for products with nothing to add; beta 0 clears (NaN included).</summary>
    private static void ScaleC(in GemmSpec s, float* c)
    {
        if (s.Beta == 1f) return;
        for (int i = 0; i < s.M; i++)
        {
            var row = new Span<float>(c + (long)i * s.Ldc, s.N);
            if (s.Beta == 0f) row.Clear();
            else CpuVectors.Scale(row, s.Beta, row);
        }
    }
}
