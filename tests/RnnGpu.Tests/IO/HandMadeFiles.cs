using System.Buffers.Binary;
using System.Text;

namespace RnnGpu.Tests.IO;

/// <summary>
/// Builds file bytes by hand, independently of the writers under test, so reading is checked against the
/// formats themselves rather than against our own writer.
/// </summary>
internal static class HandMadeFiles
{
    public static byte[] Safetensors(string json, byte[] blob) => Safetensors(Encoding.UTF8.GetBytes(json), blob);

    public static byte[] Safetensors(byte[] header, byte[] blob)
    {
        var bytes = new byte[8 + header.Length + blob.Length];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, (ulong)header.Length);
        header.CopyTo(bytes, 8);
        blob.CopyTo(bytes, 8 + header.Length);
        return bytes;
    }

    /// <summary>
    /// An .npy file the way numpy.lib.format writes it: magic, version, header length, then the dict padded with
    /// spaces and a final '\n' so the preamble is a multiple of 64 bytes (numpy's _wrap_header).
    /// </summary>
    public static byte[] Npy(string dict, byte[] data, int major = 1) => Npy(Encoding.Latin1.GetBytes(dict), data, major, pad: true);

    public static byte[] Npy(byte[] dict, byte[] data, int major, bool pad)
    {
        int lengthSize = major == 1 ? 2 : 4;
        int headerLength = dict.Length + (pad ? 1 : 0);
        int padding = pad ? 64 - (8 + lengthSize + headerLength) % 64 : 0;
        var header = new List<byte>();
        header.AddRange([0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', (byte)major, 0]);
        var length = new byte[lengthSize];
        if (major == 1) BinaryPrimitives.WriteUInt16LittleEndian(length, (ushort)(headerLength + padding));
        else BinaryPrimitives.WriteUInt32LittleEndian(length, (uint)(headerLength + padding));
        header.AddRange(length);
        header.AddRange(dict);
        if (pad)
        {
            header.AddRange(Enumerable.Repeat((byte)' ', padding));
            header.Add((byte)'\n');
        }
        header.AddRange(data);
        return header.ToArray();
    }

    public static byte[] Float32(params float[] values)
    {
        var bytes = new byte[values.Length * 4];
        for (int i = 0; i < values.Length; i++) BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(i * 4), values[i]);
        return bytes;
    }

    public static byte[] Float64(params double[] values)
    {
        var bytes = new byte[values.Length * 8];
        for (int i = 0; i < values.Length; i++) BinaryPrimitives.WriteDoubleLittleEndian(bytes.AsSpan(i * 8), values[i]);
        return bytes;
    }

    public static byte[] Int32(params int[] values)
    {
        var bytes = new byte[values.Length * 4];
        for (int i = 0; i < values.Length; i++) BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(i * 4), values[i]);
        return bytes;
    }

    public static byte[] Int64(params long[] values)
    {
        var bytes = new byte[values.Length * 8];
        for (int i = 0; i < values.Length; i++) BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(i * 8), values[i]);
        return bytes;
    }

    public static byte[] UInt16(params ushort[] values)
    {
        var bytes = new byte[values.Length * 2];
        for (int i = 0; i < values.Length; i++) BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(i * 2), values[i]);
        return bytes;
    }

    public static byte[] Concat(params byte[][] parts) => parts.SelectMany(p => p).ToArray();
}
