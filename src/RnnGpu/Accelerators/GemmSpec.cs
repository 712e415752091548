namespace RnnGpu.Accelerators;

/// <summary>
/// Shape of a row-major GEMM: C = alpha * op(A) op(B) + beta * C, with op(A): [M, K], op(B): [K, N],
/// C: [M, N]. Lda/Ldb/Ldc are the row strides of A, B and C as stored (A is [K, M] when TransA).
/// BatchCount > 1 runs that many independent products, batch i at offsets i * Stride{A,B,C}.
/// </summary>
public readonly record struct GemmSpec(
    bool TransA, bool TransB, int M, int N, int K,
    float Alpha, float Beta,
    int Lda, int Ldb, int Ldc,
    int BatchCount = 1, long StrideA = 0, long StrideB = 0, long StrideC = 0)
{
    /// <summary>A dense product with the leading dimensions its shapes imply.</summary>
    public static GemmSpec Dense(bool transA, bool transB, int m, int n, int k, float alpha = 1f, float beta = 0f) =>
        new(transA, transB, m, n, k, alpha, beta, transA ? m : k, transB ? k : n, n);

    /// <summary>Elements of A, B and C that the product touches, for bounds checks.</summary>
    internal long ExtentA => Extent(TransA ? K : M, TransA ? M : K, Lda, StrideA);
    internal long ExtentB => Extent(TransB ? N : K, TransB ? K : N, Ldb, StrideB);
    internal long ExtentC => Extent(M, N, Ldc, StrideC);

    private long Extent(int rows, int cols, int ld, long stride) =>
        rows == 0 || cols == 0 ? 0 : checked((BatchCount - 1) * stride + (long)(rows - 1) * ld + cols);

    internal void Validate()
    {
        if (M < 0 || N < 0 || K < 0 || BatchCount < 1)
            throw new ShapeException($"GEMM with negative size or no batch: M={M} N={N} K={K} batch={BatchCount}");
        if (StrideA < 0 || StrideB < 0 || StrideC < 0)
            throw new ShapeException($"GEMM with a negative batch stride: {StrideA}, {StrideB}, {StrideC}");
        // Batches of C must not overlap, or the result would depend on the order they run in.
        if (BatchCount > 1 && M > 0 && N > 0 && StrideC < (long)(M - 1) * Ldc + N)
            throw new ShapeException($"GEMM batch stride of C {StrideC} is smaller than one [{M}, {N}] output with ldc {Ldc}");
        if (Lda < (TransA ? M : K) || Ldb < (TransB ? K : N) || Ldc < N)
            throw new ShapeException($"GEMM leading dimension too small: lda={Lda} ldb={Ldb} ldc={Ldc} for M={M} N={N} K={K}");
    }
}
