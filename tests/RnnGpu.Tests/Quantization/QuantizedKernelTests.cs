using RnnGpu.Accelerators;
using RnnGpu.Accelerators.Cpu;
using RnnGpu.Tests.Support;

namespace RnnGpu.Tests.Quantization;

/// <summary>
/// The int8 and bf16 products against a float64 reference of the quantized arithmetic, recomputed here from the
/// definitions (symmetric per-row scales, round half to even; bfloat16 widened exactly), at awkward sizes and column
/// offsets; and the AVX2 kernels give the portable kernels' bits.
/// </summary>
public sealed unsafe class QuantizedKernelTests
{
    /// <summary>(rows of x, K, output rows N, matrix columns, column offset, output range [j0, j1)).</summary>
    public static TheoryData<int, int, int, int, int, int, int> Shapes => new()
    {
        { 1, 1, 1, 1, 0, 0, 1 },
        { 1, 33, 7, 33, 0, 0, 7 },
        { 3, 31, 9, 70, 39, 2, 9 },
        { 5, 64, 16, 128, 64, 0, 16 },
        { 2, 100, 13, 250, 117, 5, 12 },
        { 17, 257, 21, 257, 0, 0, 21 },
    };

    private static (double[] Values, double Scale) QuantizeRow(ReadOnlySpan<float> row)
    {
        double max = 0;
        foreach (float v in row) max = Math.Max(max, Math.Abs(v));
        float inverse = max > 0 ? 127f / (float)max : 0f;
        var q = new double[row.Length];
        for (int i = 0; i < row.Length; i++) q[i] = Math.Clamp(Math.Round(row[i] * inverse, MidpointRounding.ToEven), -127, 127);
        return (q, (float)max / 127f);
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Int8_products_match_the_quantized_arithmetic(int rows, int k, int n, int cols, int column, int j0, int j1)
    {
        var rng = new Random(rows * 1000 + k);
        var w = Numerics.Random(rng, (long)n * cols, 0.3f);
        var x = Numerics.Random(rng, (long)rows * k, 2f);
        var bias = Numerics.Random(rng, n);
        var c0 = Numerics.Random(rng, (long)rows * n);
        var matrix = QuantizedMatrix.Quantize(QuantizedWeights.Int8, w, n, cols);

        var expected = new double[rows * n];
        for (int r = 0; r < rows; r++)
        {
            var (qx, sx) = QuantizeRow(x.AsSpan(r * k, k));
            for (int j = 0; j < n; j++)
            {
                double dot = 0;
                for (int i = 0; i < k; i++) dot += qx[i] * matrix.Int8Values[j * cols + column + i];
                expected[r * n + j] = j >= j0 && j < j1 ? c0[r * n + j] + dot * (float)sx * matrix.Scales[j] + bias[j] : c0[r * n + j];
            }
        }
        float[] Run(bool simd)
        {
            var q = new sbyte[rows * CpuInt8Dot.Stride(k)];
            var scales = new float[rows];
            var c = (float[])c0.Clone();
            fixed (float* px = x, ps = scales, pc = c, pb = bias)
            fixed (sbyte* pq = q)
            {
                CpuInt8Dot.Quantize(px, rows, k, k, pq, ps, simd);
                CpuInt8Dot.Rows(pq, ps, rows, k, matrix, column, pc, n, j0, j1, accumulate: true, pb, simd);
            }
            return c;
        }
        var portable = Run(simd: false);
        Numerics.AssertClose(expected, portable, 1e-5, 1e-5, "portable int8");
        if (CpuInt8Dot.Simd) Assert.Equal(portable, Run(simd: true));
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Bf16_products_match_float64_over_the_rounded_weights(int rows, int k, int n, int cols, int column, int j0, int j1)
    {
        var rng = new Random(rows * 1000 + k + 1);
        var w = Numerics.Random(rng, (long)n * cols, 0.3f);
        var x = Numerics.Random(rng, (long)rows * k, 2f);
        var c0 = Numerics.Random(rng, (long)rows * n);
        var matrix = QuantizedMatrix.Quantize(QuantizedWeights.Bf16, w, n, cols);
        var expected = new double[rows * n];
        for (int r = 0; r < rows; r++)
        for (int j = 0; j < n; j++)
        {
            double dot = 0;
            for (int i = 0; i < k; i++) dot += (double)x[r * k + i] * Bf16.ToFloat(matrix.Bf16Values[j * cols + column + i]);
            expected[r * n + j] = j >= j0 && j < j1 ? dot : c0[r * n + j];
        }
        float[] Run(bool simd)
        {
            var p = new float[rows * CpuBf16Dot.Stride(k)];
            var c = (float[])c0.Clone();
            fixed (float* px = x, pp = p, pc = c)
            {
                CpuBf16Dot.Prepare(px, rows, k, k, pp);
                CpuBf16Dot.Rows(pp, rows, k, matrix, column, pc, n, j0, j1, accumulate: false, null, simd);
            }
            return c;
        }
        var portable = Run(simd: false);
        Numerics.AssertClose(expected, portable, 1e-5, 1e-5, "portable bf16");
        if (CpuBf16Dot.Simd) Assert.Equal(portable, Run(simd: true));
    }

    [Fact]
    public void Quantized_weights_stand_for_the_weights_within_their_rounding()
    {
        var rng = new Random(5);
        const int n = 6, cols = 37;
        var w = Numerics.Random(rng, n * cols);
        w[7] = 0f;
        for (int c = 0; c < cols; c++) w[5 * cols + c] = 0f;   // an all-zero row: scale 0, values 0
        var int8 = QuantizedMatrix.Quantize(QuantizedWeights.Int8, w, n, cols);
        var back = int8.Dequantize();
        for (int r = 0; r < n; r++)
        {
            float max = w.AsSpan(r * cols, cols).ToArray().Max(MathF.Abs);
            Assert.Equal(max / 127f, int8.Scales[r]);
            for (int c = 0; c < cols; c++) Assert.True(Math.Abs(back[r * cols + c] - w[r * cols + c]) <= int8.Scales[r] / 2 * 1.0001 + 1e-12);
        }
        var bf16 = QuantizedMatrix.Quantize(QuantizedWeights.Bf16, w, n, cols).Dequantize();
        for (int i = 0; i < w.Length; i++) Assert.True(Math.Abs(bf16[i] - w[i]) <= Math.Abs(w[i]) / 256, $"bf16 element {i}");
        // Ties go to even: 1 + 2^-8 lies halfway between 1 and 1 + 2^-7.
        Assert.Equal(1f, Bf16.ToFloat(Bf16.FromFloat(1f + 1f / 256)));
        Assert.Equal(1f + 1f / 64, Bf16.ToFloat(Bf16.FromFloat(1f + 3f / 256)));
    }

    [Fact]
    public void Stored_quantized_tensors_are_checked()
    {
        sbyte[] values = [1, -2, 3, 4, 5, 6];
        Assert.Contains("scales have 3", Assert.Throws<ShapeException>(() => QuantizedMatrix.FromInt8(values, [0.1f, 0.2f, 0.3f], 2, 3, "w")).Message);
        Assert.Contains("6 values, expected [3, 3]", Assert.Throws<ShapeException>(() => QuantizedMatrix.FromInt8(values, [1f, 1f, 1f], 3, 3, "w")).Message);
        Assert.Contains("scale 1", Assert.Throws<ShapeException>(() => QuantizedMatrix.FromInt8(values, [0.1f, float.NaN], 2, 3, "w")).Message);
        Assert.Contains("-128", Assert.Throws<ShapeException>(() => QuantizedMatrix.FromInt8([1, -128, 3, 4, 5, 6], [1f, 1f], 2, 3, "w")).Message);
        Assert.Contains("non-finite", Assert.Throws<ShapeException>(() => QuantizedMatrix.FromBf16([0x3F80, 0x7F80], 1, 2, "w")).Message);
        Assert.Contains("beyond bfloat16", Assert.Throws<ShapeException>(() => QuantizedMatrix.Quantize(QuantizedWeights.Bf16, [float.MaxValue], 1, 1)).Message);
        Assert.Throws<ShapeException>(() => QuantizedWeightsNames.Parse("int4"));
        var ok = QuantizedMatrix.FromInt8(values, [0.5f, 0.25f], 2, 3, "w");
        Assert.Equal([0.5f, -1f, 1.5f, 1f, 1.25f, 1.5f], ok.Dequantize());
    }
}
