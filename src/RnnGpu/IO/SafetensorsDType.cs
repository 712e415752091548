using System.Buffers.Binary;

namespace RnnGpu.IO;

/// <summary>The safetensors element types this reader converts to float32; the writer emits F32, and I8 and BF16 for quantized weights.</summary>
internal enum SafetensorsDType { F32, F64, F16, BF16, I64, I32, I8 }

internal static class SafetensorsDTypes
{
    public const string Supported = "F32, F64, F16, BF16, I64, I32, I8";

    public static bool TryParse(string name, out SafetensorsDType dtype)
    {
        // Exact, case-sensitive names as the spec spells them; Enum.TryParse would also accept "f32" or "3".
        switch (name)
        {
            case "F32": dtype = SafetensorsDType.F32; return true;
            case "F64": dtype = SafetensorsDType.F64; return true;
            case "F16": dtype = SafetensorsDType.F16; return true;
            case "BF16": dtype = SafetensorsDType.BF16; return true;
            case "I64": dtype = SafetensorsDType.I64; return true;
            case "I32": dtype = SafetensorsDType.I32; return true;
            case "I8": dtype = SafetensorsDType.I8; return true;
            default: dtype = default; return false;
        }
    }

    public static int Size(this SafetensorsDType dtype) => dtype switch
    {
        SafetensorsDType.F64 or SafetensorsDType.I64 => 8,
        SafetensorsDType.F32 or SafetensorsDType.I32 => 4,
        SafetensorsDType.F16 or SafetensorsDType.BF16 => 2,
        SafetensorsDType.I8 => 1,
        _ => throw new ArgumentOutOfRangeException(nameof(dtype)),
    };

    /// <summary>Converts little-endian elements to float32 (lossy for F64 and large integers, by design: the engine computes in float32).</summary>
    public static void ToFloat32(this SafetensorsDType dtype, ReadOnlySpan<byte> source, Span<float> destination)
    {
        int size = dtype.Size();
        for (int i = 0; i < destination.Length; i++)
        {
            ReadOnlySpan<byte> e = source.Slice(i * size, size);
            destination[i] = dtype switch
            {
                SafetensorsDType.F32 => BinaryPrimitives.ReadSingleLittleEndian(e),
                SafetensorsDType.F64 => (float)BinaryPrimitives.ReadDoubleLittleEndian(e),
                SafetensorsDType.F16 => (float)BinaryPrimitives.ReadHalfLittleEndian(e),
                // bfloat16 is the top half of a float32, so widening is exact.
                SafetensorsDType.BF16 => BitConverter.Int32BitsToSingle(BinaryPrimitives.ReadUInt16LittleEndian(e) << 16),
                SafetensorsDType.I64 => BinaryPrimitives.ReadInt64LittleEndian(e),
                SafetensorsDType.I32 => BinaryPrimitives.ReadInt32LittleEndian(e),
                SafetensorsDType.I8 => (sbyte)e[0],
                _ => throw new ArgumentOutOfRangeException(nameof(dtype)),
            };
        }
    }

    /// <summary>
    /// Writes float32 values as <paramref name="dtype"/>: F32, or I8 and BF16 for values that are exactly such (quantized
    /// weights); anything that would not read back the same is refused.
    /// </summary>
    public static void Write(this SafetensorsDType dtype, Stream stream, ReadOnlySpan<float> values, string name)
    {
        switch (dtype)
        {
            case SafetensorsDType.F32:
                LittleEndianArrays.Write(stream, values);
                return;
            case SafetensorsDType.I8:
            {
                var bytes = new byte[values.Length];
                for (int i = 0; i < values.Length; i++)
                {
                    float v = values[i];
                    if (v != MathF.Round(v) || v < sbyte.MinValue || v > sbyte.MaxValue)
                        throw new ShapeException($"tensor '{name}' holds {v} at flat index {i}, not an int8 value");
                    bytes[i] = (byte)(sbyte)v;
                }
                stream.Write(bytes);
                return;
            }
            case SafetensorsDType.BF16:
            {
                var bits = new ushort[values.Length];
                for (int i = 0; i < values.Length; i++)
                {
                    uint b = BitConverter.SingleToUInt32Bits(values[i]);
                    if ((b & 0xFFFF) != 0) throw new ShapeException($"tensor '{name}' holds {values[i]} at flat index {i}, not a bfloat16 value");
                    bits[i] = (ushort)(b >> 16);
                }
                LittleEndianArrays.Write<ushort>(stream, bits);
                return;
            }
            default:
                throw new ShapeException($"tensor '{name}': safetensors are written as F32, I8 or BF16, not {dtype}");
        }
    }
}
