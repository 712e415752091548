using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace RnnGpu.Accelerators;

/// <summary>
/// A weight matrix W [Rows, Cols] (row-major, one row per output) stored for inference as int8 with one float scale per row
/// (W[r, c] ≈ Int8[r, c] * Scales[r], symmetric: values in [-127, 127], scale = max |W[r, :]| / 127) or as bfloat16
/// (float32's top half, rounded to nearest even). The values live in pinned host arrays, padded past the last row so a
/// kernel may read a whole vector beyond any row's end; <see cref="Dequantized"/> is the same matrix in float32 on the
/// accelerator (what back ends without quantized kernels, and products over many rows, compute with).
/// </summary>
public sealed unsafe class QuantizedMatrix
{
    /// <summary>Elements a kernel may read past the last one (a 32-byte vector from any place).</summary>
    public const int Padding = 64;

    private readonly sbyte[]? _int8;
    private readonly ushort[]? _bf16;
    private readonly float[]? _scales;

    private QuantizedMatrix(QuantizedWeights kind, int rows, int cols, sbyte[]? int8, ushort[]? bf16, float[]? scales)
    {
        (Kind, Rows, Cols, _int8, _bf16, _scales) = (kind, rows, cols, int8, bf16, scales);
    }

    public QuantizedWeights Kind { get; }
    public int Rows { get; }
    public int Cols { get; }

    /// <summary>The float32 values of this matrix on the accelerator: [Rows, Cols]. Set once by the model that owns it.</summary>
    public Slice Dequantized { get; internal set; }

    /// <summary>Int8 values [Rows, Cols] (row-major); empty for bf16.</summary>
    public ReadOnlySpan<sbyte> Int8Values => _int8 is null ? default : _int8.AsSpan(0, Rows * Cols);

    /// <summary>bfloat16 bit patterns [Rows, Cols]; empty for int8.</summary>
    public ReadOnlySpan<ushort> Bf16Values => _bf16 is null ? default : _bf16.AsSpan(0, Rows * Cols);

    /// <summary>One scale per row (int8); empty for bf16.</summary>
    public ReadOnlySpan<float> Scales => _scales;

    internal sbyte* Int8Pointer => (sbyte*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_int8!));

    internal ushort* Bf16Pointer => (ushort*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_bf16!));

    internal float* ScalePointer => (float*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_scales!));

    /// <summary>Quantizes float32 weights [rows, cols] (finite) to <paramref name="kind"/> (int8 or bf16).</summary>
    public static QuantizedMatrix Quantize(QuantizedWeights kind, ReadOnlySpan<float> weights, int rows, int cols)
    {
        CheckShape(rows, cols, weights.Length, "weights");
        switch (kind)
        {
            case QuantizedWeights.Int8:
            {
                var values = GC.AllocateArray<sbyte>(rows * cols + Padding, pinned: true);
                var scales = GC.AllocateArray<float>(rows, pinned: true);
                for (int r = 0; r < rows; r++)
                {
                    var row = weights.Slice(r * cols, cols);
                    float max = 0f;
                    foreach (float w in row) max = MathF.Max(max, MathF.Abs(w));
                    scales[r] = max / 127f;
                    float inverse = max > 0f ? 127f / max : 0f;
                    for (int c = 0; c < cols; c++) values[r * cols + c] = (sbyte)Math.Clamp(MathF.Round(row[c] * inverse), -127f, 127f);
                }
                return new QuantizedMatrix(kind, rows, cols, values, null, scales);
            }
            case QuantizedWeights.Bf16:
            {
                var values = GC.AllocateArray<ushort>(rows * cols + Padding, pinned: true);
                for (int i = 0; i < weights.Length; i++)
                {
                    values[i] = Bf16.FromFloat(weights[i]);
                    if (!float.IsFinite(Bf16.ToFloat(values[i])))
                        throw new ShapeException($"weight {weights[i]} at flat index {i} is beyond bfloat16's range");
                }
                return new QuantizedMatrix(kind, rows, cols, null, values, null);
            }
            default:
                throw new ShapeException($"weights quantize to int8 or bf16, not {kind.ToName()}");
        }
    }

    /// <summary>An int8 matrix from stored values [rows, cols] and scales [rows] (a quantized checkpoint), checked.</summary>
    public static QuantizedMatrix FromInt8(ReadOnlySpan<sbyte> values, ReadOnlySpan<float> scales, int rows, int cols, string name)
    {
        CheckShape(rows, cols, values.Length, $"int8 tensor '{name}'");
        if (scales.Length != rows)
            throw new ShapeException($"int8 tensor '{name}' [{rows}, {cols}] needs one scale per row ({rows}), its scales have {scales.Length}");
        for (int r = 0; r < rows; r++)
            if (!float.IsFinite(scales[r]) || scales[r] < 0f)
                throw new ShapeException($"scale {r} of int8 tensor '{name}' is {scales[r]}: scales are finite and not negative");
        for (int i = 0; i < values.Length; i++)
            if (values[i] == sbyte.MinValue)
                throw new ShapeException($"int8 tensor '{name}' holds -128 at flat index {i}: symmetric int8 weights lie in [-127, 127]");
        var copy = GC.AllocateArray<sbyte>(values.Length + Padding, pinned: true);
        values.CopyTo(copy);
        var scaleCopy = GC.AllocateArray<float>(rows, pinned: true);
        scales.CopyTo(scaleCopy);
        return new QuantizedMatrix(QuantizedWeights.Int8, rows, cols, copy, null, scaleCopy);
    }

    /// <summary>A bf16 matrix from stored bit patterns [rows, cols] (a quantized checkpoint), checked finite.</summary>
    public static QuantizedMatrix FromBf16(ReadOnlySpan<ushort> values, int rows, int cols, string name)
    {
        CheckShape(rows, cols, values.Length, $"bf16 tensor '{name}'");
        for (int i = 0; i < values.Length; i++)
            if (!float.IsFinite(Bf16.ToFloat(values[i])))
                throw new ShapeException($"bf16 tensor '{name}' holds a non-finite value at flat index {i}");
        var copy = GC.AllocateArray<ushort>(values.Length + Padding, pinned: true);
        values.CopyTo(copy);
        return new QuantizedMatrix(QuantizedWeights.Bf16, rows, cols, null, copy, null);
    }

    /// <summary>The float32 values this matrix stands for: [Rows, Cols].</summary>
    public float[] Dequantize()
    {
        var result = new float[(long)Rows * Cols];
        for (int r = 0; r < Rows; r++)
        for (int c = 0; c < Cols; c++)
        {
            int i = r * Cols + c;
            result[i] = Kind == QuantizedWeights.Int8 ? _int8![i] * _scales![r] : Bf16.ToFloat(_bf16![i]);
        }
        return result;
    }

    private static void CheckShape(int rows, int cols, int length, string what)
    {
        if (rows < 1 || cols < 1) throw new ShapeException($"{what} is [{rows}, {cols}]: a quantized matrix has at least one row and one column");
        if ((long)rows * cols + Padding > Array.MaxLength) throw new ShapeException($"{what} [{rows}, {cols}] is too large to quantize");
        if (length != (long)rows * cols) throw new ShapeException($"{what} has {length} values, expected [{rows}, {cols}]");
    }
}

/// <summary>bfloat16: the top 16 bits of a float32.</summary>
public static class Bf16
{
    /// <summary>Rounds to the nearest bfloat16, ties to even (finite input).</summary>
    public static ushort FromFloat(float value)
    {
        uint bits = BitConverter.SingleToUInt32Bits(value);
        return (ushort)((bits + 0x7FFFu + ((bits >> 16) & 1u)) >> 16);
    }

    public static float ToFloat(ushort value) => BitConverter.UInt32BitsToSingle((uint)value << 16);
}
