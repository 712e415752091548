using System.Buffers;
using System.Runtime.Intrinsics;

namespace RnnGpu.Accelerators.Cpu;

/// <summary>
/// Row-major SGEMM for the CPU: C = alpha op(A) op(B) + beta C.
/// Register-blocked micro-kernel of 4 rows x 16 columns (two Vector256 accumulators per row,
/// 8 FMAs per 2 loads of B and 4 broadcasts of A) over the whole K; B is read as rows [K, N],
/// so a transposed B is packed once per call into a pooled [K, N] scratch. Columns past the
/// last multiple of 16 and rows past the last multiple of 4 take narrower paths. Large products
/// are split into independent column or row stripes across threads; each output element is
/// always computed by one thread in one order, so results are deterministic.
/// A product with few rows and B transposed (the recurrent step: h_prev [B, H] x W_hh^T) would spend
/// more time packing B than multiplying, so it takes dot products of contiguous rows instead
/// (<see cref="CpuGemmDot"/>).
/// </summary>
internal static unsafe class CpuGemm
{
    private const int Mr = 4, Nr = 16;
    internal const long ParallelFlops = 1L << 19;

    public static void Run(in GemmSpec s, float* a, float* b, float* c)
    {
        for (int batch = 0; batch < s.BatchCount; batch++)
            RunOne(s, a + batch * s.StrideA, b + batch * s.StrideB, c + batch * s.StrideC);
    }

    private static void RunOne(in GemmSpec s, float* a, float* b, float* c)
    {
        ScaleC(s, c);
        if (s.K == 0 || s.Alpha == 0f) return;
        if (s.TransB && !s.TransA && s.M <= CpuGemmDot.MaxRows)
        {
            CpuGemmDot.Run(s, a, b, c);
            return;
        }

        float[]? packed = null;
        int ldb = s.Ldb;
        try
        {
            if (s.TransB)
            {
                // B is stored [N, K]; pack it to [K, N] so the micro-kernel reads rows of 16.
                packed = ArrayPool<float>.Shared.Rent(s.K * s.N);
                fixed (float* pb = packed) Transpose(b, s.Ldb, s.N, s.K, pb);
                ldb = s.N;
            }
            fixed (float* pb = packed)
            {
                var work = new Work(s, a, packed is null ? b : pb, ldb, c);
                work.Execute();
            }
        }
        finally
        {
            if (packed is not null) ArrayPool<float>.Shared.Return(packed);
        }
    }

    internal static void ScaleC(in GemmSpec s, float* c)
    {
        if (s.Beta == 1f) return;
        for (int i = 0; i < s.M; i++)
        {
            var row = new Span<float>(c + (long)i * s.Ldc, s.N);
            if (s.Beta == 0f) row.Clear();
            else System.Numerics.Tensors.TensorPrimitives.Multiply(row, s.Beta, row);
        }
    }

    /// <summary>dst[k, n] = src[n, k]; src has row stride ld.</summary>
    private static void Transpose(float* src, int ld, int rows, int cols, float* dst)
    {
        const int block = 32;
        for (int r0 = 0; r0 < rows; r0 += block)
        for (int c0 = 0; c0 < cols; c0 += block)
        {
            int r1 = Math.Min(r0 + block, rows), c1 = Math.Min(c0 + block, cols);
            for (int r = r0; r < r1; r++)
            for (int col = c0; col < c1; col++)
                dst[(long)col * rows + r] = src[(long)r * ld + col];
        }
    }

    /// <summary>One product after packing: A as given (maybe transposed), B as [K, N] rows with stride ldb.</summary>
    private readonly struct Work(in GemmSpec s, float* a, float* b, int ldb, float* c)
    {
        private readonly GemmSpec _s = s;
        private readonly nint _a = (nint)a, _b = (nint)b, _c = (nint)c;
        private readonly int _ldb = ldb;

        public void Execute()
        {
            int colBlocks = (_s.N + Nr - 1) / Nr;
            int rowBlocks = (_s.M + Mr - 1) / Mr;
            long flops = 2L * _s.M * _s.N * _s.K;
            int threads = Environment.ProcessorCount;
            if (flops < ParallelFlops || threads == 1 || (colBlocks == 1 && rowBlocks == 1))
            {
                Compute(0, _s.M, 0, _s.N);
                return;
            }
            var self = this;
            if (colBlocks >= rowBlocks)
            {
                int stripes = Math.Min(colBlocks, threads);
                Parallel.For(0, stripes, t =>
                {
                    int c0 = (int)((long)colBlocks * t / stripes) * Nr, c1 = Math.Min((int)((long)colBlocks * (t + 1) / stripes) * Nr, self._s.N);
                    self.Compute(0, self._s.M, c0, c1);
                });
            }
            else
            {
                int stripes = Math.Min(rowBlocks, threads);
                Parallel.For(0, stripes, t =>
                {
                    int r0 = (int)((long)rowBlocks * t / stripes) * Mr, r1 = Math.Min((int)((long)rowBlocks * (t + 1) / stripes) * Mr, self._s.M);
                    self.Compute(r0, r1, 0, self._s.N);
                });
            }
        }

        /// <summary>C[r0..r1, c0..c1] += alpha op(A) B over that tile.</summary>
        private void Compute(int r0, int r1, int c0, int c1)
        {
            int cVec = c0 + (c1 - c0) / Nr * Nr;
            for (int j = c0; j < cVec; j += Nr)
            {
                int i = r0;
                for (; i + Mr <= r1; i += Mr) Kernel4x16(i, j);
                for (; i < r1; i++) Kernel1x16(i, j);
            }
            for (int i = r0; i < r1; i++)
            for (int j = cVec; j < c1; j++)
                Scalar(i, j);
        }

        private float* A(int i, int p) =>
            _s.TransA ? (float*)_a + (long)p * _s.Lda + i : (float*)_a + (long)i * _s.Lda + p;

        private void Kernel4x16(int i, int j)
        {
            float* b = (float*)_b + j;
            var c00 = Vector256<float>.Zero; var c01 = Vector256<float>.Zero;
            var c10 = Vector256<float>.Zero; var c11 = Vector256<float>.Zero;
            var c20 = Vector256<float>.Zero; var c21 = Vector256<float>.Zero;
            var c30 = Vector256<float>.Zero; var c31 = Vector256<float>.Zero;
            long strideRow = _s.TransA ? 1 : _s.Lda;   // step between the 4 rows of A
            long strideK = _s.TransA ? _s.Lda : 1;      // step along K
            float* ap = A(i, 0);
            for (int p = 0; p < _s.K; p++, ap += strideK, b += _ldb)
            {
                var b0 = Vector256.Load(b);
                var b1 = Vector256.Load(b + 8);
                var a0 = Vector256.Create(ap[0]);
                var a1 = Vector256.Create(ap[strideRow]);
                var a2 = Vector256.Create(ap[2 * strideRow]);
                var a3 = Vector256.Create(ap[3 * strideRow]);
                c00 = Vector256.FusedMultiplyAdd(a0, b0, c00); c01 = Vector256.FusedMultiplyAdd(a0, b1, c01);
                c10 = Vector256.FusedMultiplyAdd(a1, b0, c10); c11 = Vector256.FusedMultiplyAdd(a1, b1, c11);
                c20 = Vector256.FusedMultiplyAdd(a2, b0, c20); c21 = Vector256.FusedMultiplyAdd(a2, b1, c21);
                c30 = Vector256.FusedMultiplyAdd(a3, b0, c30); c31 = Vector256.FusedMultiplyAdd(a3, b1, c31);
            }
            Store(i, j, c00, c01);
            Store(i + 1, j, c10, c11);
            Store(i + 2, j, c20, c21);
            Store(i + 3, j, c30, c31);
        }

        private void Kernel1x16(int i, int j)
        {
            float* b = (float*)_b + j;
            var c0 = Vector256<float>.Zero; var c1 = Vector256<float>.Zero;
            long strideK = _s.TransA ? _s.Lda : 1;
            float* ap = A(i, 0);
            for (int p = 0; p < _s.K; p++, ap += strideK, b += _ldb)
            {
                var av = Vector256.Create(*ap);
                c0 = Vector256.FusedMultiplyAdd(av, Vector256.Load(b), c0);
                c1 = Vector256.FusedMultiplyAdd(av, Vector256.Load(b + 8), c1);
            }
            Store(i, j, c0, c1);
        }

        private void Store(int i, int j, Vector256<float> lo, Vector256<float> hi)
        {
            float* c = (float*)_c + (long)i * _s.Ldc + j;
            var alpha = Vector256.Create(_s.Alpha);
            Vector256.FusedMultiplyAdd(alpha, lo, Vector256.Load(c)).Store(c);
            Vector256.FusedMultiplyAdd(alpha, hi, Vector256.Load(c + 8)).Store(c + 8);
        }

        private void Scalar(int i, int j)
        {
            float acc = 0;
            float* b = (float*)_b + j;
            for (int p = 0; p < _s.K; p++) acc = MathF.FusedMultiplyAdd(*A(i, p), b[(long)p * _ldb], acc);
            float* c = (float*)_c + (long)i * _s.Ldc + j;
            *c += _s.Alpha * acc;
        }
    }
}
