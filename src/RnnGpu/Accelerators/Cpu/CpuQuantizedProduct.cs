namespace RnnGpu.Accelerators.Cpu;

/// <summary>
/// The quantized products of one kind behind one face: activations prepared once per step (<see cref="Prepare"/>: int8
/// rows and their scales, or bf16's reordered float32 rows), then any column range of x W^T (<see cref="Rows"/>), so the
/// jobs that run them share out output columns without caring for the kind.
/// </summary>
internal static unsafe class CpuQuantizedProduct
{
    /// <summary>Bytes of one prepared row of K activations.</summary>
    public static int RowBytes(QuantizedWeights kind, int k) => kind == QuantizedWeights.Int8 ? CpuInt8Dot.Stride(k) : CpuBf16Dot.Stride(k) * sizeof(float);

    /// <summary>Prepares x [rows, k] (row stride ldx) into prepared [rows, RowBytes] (and, int8, scales [rows]).</summary>
    public static void Prepare(QuantizedWeights kind, float* x, int rows, int k, long ldx, byte* prepared, float* scales)
    {
        if (kind == QuantizedWeights.Int8) CpuInt8Dot.Quantize(x, rows, k, ldx, (sbyte*)prepared, scales, CpuInt8Dot.Simd);
        else CpuBf16Dot.Prepare(x, rows, k, ldx, (float*)prepared);
    }

    /// <summary>c[r, j] = (accumulate ? c[r, j] : 0) + x_r · W[j, column .. column + k] (+ bias[j]) for j in [j0, j1).</summary>
    public static void Rows(byte* prepared, float* scales, int rows, int k, QuantizedMatrix w, int column, float* c, long ldc, int j0, int j1,
        bool accumulate, float* bias)
    {
        if (w.Kind == QuantizedWeights.Int8)
            CpuInt8Dot.Rows((sbyte*)prepared, scales, rows, k, w, column, c, ldc, j0, j1, accumulate, bias, CpuInt8Dot.Simd);
        else CpuBf16Dot.Rows((float*)prepared, rows, k, w, column, c, ldc, j0, j1, accumulate, bias, CpuBf16Dot.Simd);
    }

    /// <summary>Member m's share [u0, u1) of n output rows: whole 8-row blocks, the last one short where n is not a multiple of 8.</summary>
    public static (int U0, int U1) Stripe(int n, int member, int members)
    {
        int blocks = (n + 7) / 8;
        int u0 = (int)((long)blocks * member / members) * 8, u1 = (int)((long)blocks * (member + 1) / members) * 8;
        return (Math.Min(u0, n), Math.Min(u1, n));
    }
}
