using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace RnnGpu.IO;

/// <summary>
/// Moves primitive arrays to and from little-endian streams. Works in chunks because a byte span over an
/// array of more than 2 GB would overflow, and swaps bytes on big-endian hosts so files stay portable.
/// </summary>
internal static class LittleEndianArrays
{
    private const int ChunkBytes = 1 << 20;

    /// <summary>Fills <paramref name="destination"/> from the stream; a short file is a format error, not an EndOfStreamException.</summary>
    public static void Read<T>(Stream stream, T[] destination, string path) where T : unmanaged
    {
        int perChunk = ChunkBytes / Unsafe.SizeOf<T>();
        for (int start = 0; start < destination.Length; start += perChunk)
        {
            Span<T> part = destination.AsSpan(start, Math.Min(perChunk, destination.Length - start));
            ReadExactly(stream, MemoryMarshal.AsBytes(part), path);
            if (!BitConverter.IsLittleEndian) ReverseEndianness(part);
        }
    }

    public static void Write<T>(Stream stream, ReadOnlySpan<T> source) where T : unmanaged
    {
        int perChunk = ChunkBytes / Unsafe.SizeOf<T>();
        T[]? swapped = BitConverter.IsLittleEndian ? null : new T[Math.Min(perChunk, source.Length)];
        for (int start = 0; start < source.Length; start += perChunk)
        {
            ReadOnlySpan<T> part = source.Slice(start, Math.Min(perChunk, source.Length - start));
            if (swapped is not null)
            {
                Span<T> copy = swapped.AsSpan(0, part.Length);
                part.CopyTo(copy);
                ReverseEndianness(copy);
                part = copy;
            }
            stream.Write(MemoryMarshal.AsBytes(part));
        }
    }

    public static void ReadExactly(Stream stream, Span<byte> buffer, string path)
    {
        try
        {
            stream.ReadExactly(buffer);
        }
        catch (EndOfStreamException)
        {
            // Sizes are checked against the file length up front, so this means the file shrank while being read.
            throw new FileFormatException(path, "unexpected end of file");
        }
    }

    private static void ReverseEndianness<T>(Span<T> span) where T : unmanaged
    {
        switch (Unsafe.SizeOf<T>())
        {
            case 2: { var s = MemoryMarshal.Cast<T, ushort>(span); BinaryPrimitives.ReverseEndianness(s, s); break; }
            case 4: { var s = MemoryMarshal.Cast<T, uint>(span); BinaryPrimitives.ReverseEndianness(s, s); break; }
            case 8: { var s = MemoryMarshal.Cast<T, ulong>(span); BinaryPrimitives.ReverseEndianness(s, s); break; }
            default: throw new NotSupportedException($"no byte swap for {Unsafe.SizeOf<T>()}-byte elements");
        }
    }
}
