using System.Buffers.Binary;
using System.Text;

namespace RnnGpu.IO;

/// <summary>Writes .npy files byte-compatible with numpy.lib.format: version 1.0 unless the header needs 2.0.</summary>
internal static class NpyWriter
{
    public static void Write(string path, NpyArray array)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(array);
        // Shape is a public array; refuse to write a header that no longer describes the data.
        if (Tensor.ElementCount(array.Shape) != array.Data.Length)
            throw new ShapeException($"shape {NpyHeader.ShapeText(array.Shape)} does not match the {array.Data.Length} elements of the array");
        byte[] preamble = BuildPreamble(NpyHeader.Format(array.DType, array.Shape));
        AtomicFile.Write(path, stream =>
        {
            stream.Write(preamble);
            switch (array.Data)
            {
                case float[] f: LittleEndianArrays.Write<float>(stream, f); break;
                case double[] d: LittleEndianArrays.Write<double>(stream, d); break;
                case int[] i: LittleEndianArrays.Write<int>(stream, i); break;
                case long[] l: LittleEndianArrays.Write<long>(stream, l); break;
                default: throw new InvalidOperationException($"unexpected storage {array.Data.GetType()}");
            }
        });
    }

    /// <summary>Magic, version, header length and the header padded with spaces and '\n' to a multiple of 64 bytes, as numpy's _wrap_header does.</summary>
    internal static byte[] BuildPreamble(string dict)
    {
        foreach (int lengthSize in (ReadOnlySpan<int>)[2, 4])
        {
            int headerLength = dict.Length + 1; // + '\n'
            int pad = NpyFormat.Alignment - (NpyFormat.MagicAndVersionLength + lengthSize + headerLength) % NpyFormat.Alignment;
            int total = headerLength + pad;
            if (lengthSize == 2 && total > ushort.MaxValue) continue; // too long for version 1.0

            var bytes = new byte[NpyFormat.MagicAndVersionLength + lengthSize + total];
            NpyFormat.Magic.CopyTo(bytes);
            bytes[6] = (byte)(lengthSize == 2 ? 1 : 2);
            bytes[7] = 0;
            if (lengthSize == 2) BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(8), (ushort)total);
            else BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(8), (uint)total);
            Span<byte> header = bytes.AsSpan(NpyFormat.MagicAndVersionLength + lengthSize);
            Encoding.Latin1.GetBytes(dict, header);
            header[dict.Length..^1].Fill((byte)' ');
            header[^1] = (byte)'\n';
            return bytes;
        }
        throw new InvalidOperationException("unreachable: a version 2.0 header holds 4 GB");
    }
}
