using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace RnnGpu.Accelerators.Cpu;

/// <summary>
/// Products with int8 weights and int8 activations (dynamic quantization): each row of x [rows, K] is quantized on its own,
/// symmetric, scale max |x_r| / 127, and c[r, j] = Σ_k q_x[r, k] q_w[j, k] (exact, in int32) * (scale_x[r] * scale_w[j]).
/// AVX2 has no signed-by-signed byte product, so the kernel takes |q_x| (unsigned) times q_w carrying q_x's sign
/// (vpsignb, then vpmaddubsw, vpmaddwd): with both in [-127, 127] a pair of products stays within int16 (2 * 127² = 32258),
/// so nothing saturates and the sums are exact. The portable path computes the same integers and the same float epilogue,
/// so both give the same bits. Quantized rows are zero-padded to whole 32-byte chunks: the weights past a row's K columns
/// (the next columns, or the matrix's padding) meet zeros.
/// </summary>
internal static unsafe class CpuInt8Dot
{
    public const int Chunk = 32;

    /// <summary>Bytes of one quantized row of K values.</summary>
    public static int Stride(int k) => (k + Chunk - 1) / Chunk * Chunk;

    /// <summary>Whether this CPU runs the AVX2 kernels (else the portable ones, with the same results).</summary>
    public static bool Simd => Avx2.IsSupported;

    /// <summary>q [rows, Stride(k)] (zero-padded) and scales [rows] from x [rows, k] (row stride ldx).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Quantize(float* x, int rows, int k, long ldx, sbyte* q, float* scales, bool simd)
    {
        int stride = Stride(k);
        for (int r = 0; r < rows; r++)
        {
            float* xr = x + r * ldx;
            sbyte* qr = q + (long)r * stride;
            float max = MaxAbs(xr, k, simd);
            scales[r] = max / 127f;
            float inverse = max > 0f ? 127f / max : 0f;
            int c = 0;
            if (simd)
            {
                var inv = Vector256.Create(inverse);
                var order = Vector256.Create(0, 4, 1, 5, 2, 6, 3, 7);
                for (; c + Chunk <= k; c += Chunk)
                {
                    // cvtps2dq rounds to nearest even, as MathF.Round.
                    var i0 = Avx.ConvertToVector256Int32(Vector256.Load(xr + c) * inv);
                    var i1 = Avx.ConvertToVector256Int32(Vector256.Load(xr + c + 8) * inv);
                    var i2 = Avx.ConvertToVector256Int32(Vector256.Load(xr + c + 16) * inv);
                    var i3 = Avx.ConvertToVector256Int32(Vector256.Load(xr + c + 24) * inv);
                    var bytes = Avx2.PackSignedSaturate(Avx2.PackSignedSaturate(i0, i1), Avx2.PackSignedSaturate(i2, i3));
                    // The packs interleave 128-bit lanes: 4-byte groups come as 0 2 4 6 1 3 5 7 of the wanted order.
                    Avx2.PermuteVar8x32(bytes.AsInt32(), order).AsSByte().Store(qr + c);
                }
            }
            for (; c < k; c++) qr[c] = (sbyte)Math.Clamp(MathF.Round(xr[c] * inverse), -127f, 127f);
            for (; c < stride; c++) qr[c] = 0;
        }
    }

    private static float MaxAbs(float* x, int k, bool simd)
    {
        float max = 0f;
        int c = 0;
        if (simd && k >= 8)
        {
            var m = Vector256<float>.Zero;
            for (; c + 8 <= k; c += 8) m = Vector256.Max(m, Vector256.Abs(Vector256.Load(x + c)));
            for (int l = 0; l < 8; l++) max = MathF.Max(max, m[l]);
        }
        for (; c < k; c++) max = MathF.Max(max, MathF.Abs(x[c]));
        return max;
    }

    /// <summary>
    /// c[r, j] = (accumulate ? c[r, j] : 0) + Σ_k q[r, k] W[j, column + k] * (scales[r] * W.scale[j]) (+ bias[j]) for the
    /// output columns j in [j0, j1): q from <see cref="Quantize"/> of K columns, c with row stride ldc.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Rows(sbyte* q, float* scales, int rows, int k, QuantizedMatrix w, int column, float* c, long ldc, int j0, int j1,
        bool accumulate, float* bias, bool simd)
    {
        int stride = Stride(k), cols = w.Cols;
        sbyte* weights = w.Int8Pointer + column;
        float* wScales = w.ScalePointer;
        int j = j0;
        if (simd)
            for (; j + 4 <= j1; j += 4)
            {
                sbyte* w0 = weights + (long)j * cols, w1 = w0 + cols, w2 = w1 + cols, w3 = w2 + cols;
                var ws = Vector128.Load(wScales + j);
                for (int r = 0; r < rows; r++)
                {
                    var sums = Dot4(q + (long)r * stride, stride, w0, w1, w2, w3);
                    var v = Vector128.ConvertToSingle(sums) * (Vector128.Create(scales[r]) * ws);
                    float* cr = c + r * ldc + j;
                    if (accumulate) v += Vector128.Load(cr);
                    if (bias is not null) v += Vector128.Load(bias + j);
                    v.Store(cr);
                }
            }
        for (; j < j1; j++)
        {
            sbyte* wj = weights + (long)j * cols;
            for (int r = 0; r < rows; r++)
            {
                int sum = simd ? Dot1(q + (long)r * stride, stride, wj) : DotScalar(q + (long)r * stride, k, wj);
                float v = sum * (scales[r] * wScales[j]);
                float* cr = c + r * ldc + j;
                if (accumulate) v += *cr;
                if (bias is not null) v += bias[j];
                *cr = v;
            }
        }
    }

    /// <summary>Σ_k a[k] w_i[k] for four weight rows, in whole chunks: [4] int32.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<int> Dot4(sbyte* a, int stride, sbyte* w0, sbyte* w1, sbyte* w2, sbyte* w3)
    {
        var ones = Vector256.Create((short)1);
        Vector256<int> s0 = default, s1 = default, s2 = default, s3 = default;
        for (int k = 0; k < stride; k += Chunk)
        {
            var av = Vector256.Load(a + k);
            var abs = Avx2.Abs(av);
            s0 += Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(abs, Avx2.Sign(Vector256.Load(w0 + k), av)), ones);
            s1 += Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(abs, Avx2.Sign(Vector256.Load(w1 + k), av)), ones);
            s2 += Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(abs, Avx2.Sign(Vector256.Load(w2 + k), av)), ones);
            s3 += Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(abs, Avx2.Sign(Vector256.Load(w3 + k), av)), ones);
        }
        var h = Avx2.HorizontalAdd(Avx2.HorizontalAdd(s0, s1), Avx2.HorizontalAdd(s2, s3));
        return h.GetLower() + h.GetUpper();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int Dot1(sbyte* a, int stride, sbyte* w)
    {
        var ones = Vector256.Create((short)1);
        Vector256<int> s = default;
        for (int k = 0; k < stride; k += Chunk)
        {
            var av = Vector256.Load(a + k);
            s += Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(Avx2.Abs(av), Avx2.Sign(Vector256.Load(w + k), av)), ones);
        }
        return Vector256.Sum(s);
    }

    private static int DotScalar(sbyte* a, int k, sbyte* w)
    {
        int sum = 0;
        for (int i = 0; i < k; i++) sum += a[i] * w[i];
        return sum;
    }
}
