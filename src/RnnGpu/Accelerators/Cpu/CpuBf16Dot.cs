using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace RnnGpu.Accelerators.Cpu;

/// <summary>
/// Products with bfloat16 weights and float32 activations: c[r, j] = Σ_k x[r, k] W[j, k]. Sixteen weights load as eight
/// 32-bit lanes, each holding an even-indexed weight in its low half and the next odd one in its high half; a shift
/// (even) and a mask (odd) make them float32 without a conversion, so x is laid out per 16-column chunk as its 8 even
/// columns then its 8 odd ones (<see cref="Prepare"/>), zero-padded to whole chunks. Lane l of one accumulator sums column
/// k + 2l of every chunk, of another column k + 2l + 1, by fused multiply-adds (two chains, so that their latency overlaps);
/// then the two add lane by lane and the lanes add as ((0+1)+(2+3))+((4+5)+(6+7));
/// the portable path does the same operations in the same order, so both give the same bits.
/// </summary>
internal static unsafe class CpuBf16Dot
{
    public const int Chunk = 16;

    /// <summary>Floats of one prepared row of K values.</summary>
    public static int Stride(int k) => (k + Chunk - 1) / Chunk * Chunk;

    public static bool Simd => Avx2.IsSupported && Fma.IsSupported;

    /// <summary>p [rows, Stride(k)] from x [rows, k] (row stride ldx): each chunk's even columns, then its odd ones, zero-padded.</summary>
    public static void Prepare(float* x, int rows, int k, long ldx, float* p)
    {
        int stride = Stride(k);
        for (int r = 0; r < rows; r++)
        {
            float* xr = x + r * ldx, pr = p + (long)r * stride;
            for (int c = 0; c < stride; c++)
            {
                int chunk = c / Chunk * Chunk, lane = c % Chunk;
                int source = chunk + (lane < 8 ? 2 * lane : 2 * (lane - 8) + 1);
                pr[c] = source < k ? xr[source] : 0f;
            }
        }
    }

    /// <summary>
    /// c[r, j] = (accumulate ? c[r, j] : 0) + Σ_k x[r, k] W[j, column + k] (+ bias[j]) for j in [j0, j1): p from
    /// <see cref="Prepare"/> of K columns (the 32-bit lanes pair columns from W[j, column] on), c with row stride ldc.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Rows(float* p, int rows, int k, QuantizedMatrix w, int column, float* c, long ldc, int j0, int j1, bool accumulate, float* bias,
        bool simd)
    {
        int stride = Stride(k), cols = w.Cols;
        ushort* weights = w.Bf16Pointer + column;
        int j = j0;
        if (simd)
            for (; j + 4 <= j1; j += 4)
            {
                ushort* w0 = weights + (long)j * cols, w1 = w0 + cols, w2 = w1 + cols, w3 = w2 + cols;
                for (int r = 0; r < rows; r++)
                {
                    var v = Dot4(p + (long)r * stride, stride, w0, w1, w2, w3);
                    float* cr = c + r * ldc + j;
                    if (accumulate) v += Vector128.Load(cr);
                    if (bias is not null) v += Vector128.Load(bias + j);
                    v.Store(cr);
                }
            }
        for (; j < j1; j++)
        {
            ushort* wj = weights + (long)j * cols;
            for (int r = 0; r < rows; r++)
            {
                float v = simd ? Dot1(p + (long)r * stride, stride, wj) : DotScalar(p + (long)r * stride, stride, wj);
                float* cr = c + r * ldc + j;
                if (accumulate) v += *cr;
                if (bias is not null) v += bias[j];
                *cr = v;
            }
        }
    }

    /// <summary>Chunk k's even columns into <paramref name="even"/>, its odd ones into <paramref name="odd"/>: two chains, so the FMAs' latency overlaps.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Step(ref Vector256<float> even, ref Vector256<float> odd, ushort* w, float* p)
    {
        var lanes = Vector256.Load((uint*)w);
        even = Fma.MultiplyAdd((lanes << 16).AsSingle(), Vector256.Load(p), even);
        odd = Fma.MultiplyAdd((lanes & Vector256.Create(0xFFFF0000u)).AsSingle(), Vector256.Load(p + 8), odd);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<float> Dot4(float* p, int stride, ushort* w0, ushort* w1, ushort* w2, ushort* w3)
    {
        Vector256<float> e0 = default, e1 = default, e2 = default, e3 = default, o0 = default, o1 = default, o2 = default, o3 = default;
        for (int k = 0; k < stride; k += Chunk)
        {
            Step(ref e0, ref o0, w0 + k, p + k);
            Step(ref e1, ref o1, w1 + k, p + k);
            Step(ref e2, ref o2, w2 + k, p + k);
            Step(ref e3, ref o3, w3 + k, p + k);
        }
        // Per row: lane l = even + odd, then the lanes as ((0+1)+(2+3)) + ((4+5)+(6+7)).
        var h = Avx.HorizontalAdd(Avx.HorizontalAdd(e0 + o0, e1 + o1), Avx.HorizontalAdd(e2 + o2, e3 + o3));
        return h.GetLower() + h.GetUpper();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Dot1(float* p, int stride, ushort* w)
    {
        Vector256<float> even = default, odd = default;
        for (int k = 0; k < stride; k += Chunk) Step(ref even, ref odd, w + k, p + k);
        var h = Avx.HorizontalAdd(Avx.HorizontalAdd(even + odd, Vector256<float>.Zero), Vector256<float>.Zero);
        return h.ToScalar() + h.GetElement(4);
    }

    /// <summary>The vector path's operations one lane at a time.</summary>
    private static float DotScalar(float* p, int stride, ushort* w)
    {
        float* lanes = stackalloc float[8], odd = stackalloc float[8];
        for (int l = 0; l < 8; l++) lanes[l] = odd[l] = 0f;
        for (int k = 0; k < stride; k += Chunk)
        for (int l = 0; l < 8; l++)
        {
            lanes[l] = MathF.FusedMultiplyAdd(Bf16.ToFloat(w[k + 2 * l]), p[k + l], lanes[l]);
            odd[l] = MathF.FusedMultiplyAdd(Bf16.ToFloat(w[k + 2 * l + 1]), p[k + 8 + l], odd[l]);
        }
        for (int l = 0; l < 8; l++) lanes[l] += odd[l];
        return ((lanes[0] + lanes[1]) + (lanes[2] + lanes[3])) + ((lanes[4] + lanes[5]) + (lanes[6] + lanes[7]));
    }
}
