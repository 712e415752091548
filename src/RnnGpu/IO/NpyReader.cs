using System.Buffers.Binary;
using System.Text;

namespace RnnGpu.IO;

/// <summary>Reads .npy versions 1.0, 2.0 and 3.0, checking every declared size against the file length before allocating.</summary>
internal static class NpyReader
{
    public static NpyArray Read(string path)
    {
        using FileStream stream = InputFile.Open(path);
        try
        {
            return Read(stream, path);
        }
        catch (IOException e)
        {
            throw new FileFormatException(path, $"cannot read the file: {e.Message}");
        }
    }

    private static NpyArray Read(FileStream stream, string path)
    {
        long fileLength = stream.Length;
        Span<byte> preamble = stackalloc byte[NpyFormat.MagicAndVersionLength + 4];
        int magicBytes = (int)Math.Min(fileLength, NpyFormat.Magic.Length);
        LittleEndianArrays.ReadExactly(stream, preamble[..magicBytes], path);
        if (magicBytes < NpyFormat.Magic.Length || !preamble[..magicBytes].SequenceEqual(NpyFormat.Magic))
            throw new FileFormatException(path, "not an .npy file: wrong magic bytes");

        if (fileLength < NpyFormat.MagicAndVersionLength)
            throw new FileFormatException(path, "truncated header: the file ends inside the version bytes");
        LittleEndianArrays.ReadExactly(stream, preamble[magicBytes..NpyFormat.MagicAndVersionLength], path);
        byte major = preamble[6], minor = preamble[7];
        if (major is not (1 or 2 or 3) || minor != 0)
            throw new FileFormatException(path, $"unsupported .npy format version {major}.{minor}");

        // Version 1 has a 16-bit header length; 2 and 3 widened it to 32 bits.
        int lengthSize = major == 1 ? 2 : 4;
        int prefixLength = NpyFormat.MagicAndVersionLength + lengthSize;
        if (fileLength < prefixLength)
            throw new FileFormatException(path, "truncated header: the file ends inside the header length");
        Span<byte> lengthBytes = preamble[NpyFormat.MagicAndVersionLength..prefixLength];
        LittleEndianArrays.ReadExactly(stream, lengthBytes, path);
        uint headerLength = major == 1 ? BinaryPrimitives.ReadUInt16LittleEndian(lengthBytes) : BinaryPrimitives.ReadUInt32LittleEndian(lengthBytes);
        if (headerLength > NpyFormat.MaxHeaderBytes)
            throw new FileFormatException(path, $"header length {headerLength} exceeds the {NpyFormat.MaxHeaderBytes / (1024 * 1024)} MB limit");
        if (headerLength > fileLength - prefixLength)
            throw new FileFormatException(path, $"truncated header: it declares {headerLength} bytes, the file has {fileLength - prefixLength} after the preamble");

        var headerBytes = new byte[headerLength];
        LittleEndianArrays.ReadExactly(stream, headerBytes, path);
        NpyHeader header = NpyHeader.Parse(DecodeHeader(headerBytes, major, path), path);

        long dataStart = prefixLength + headerLength;
        long available = fileLength - dataStart;
        long needed = header.Count * header.DType.Size();
        string layout = $"shape {NpyHeader.ShapeText(header.Shape)} of {header.DType.Descr()}";
        if (available < needed)
            throw new FileFormatException(path, $"truncated data: {layout} needs {needed} bytes, the file has {available}");
        if (available > needed)
            throw new FileFormatException(path, $"{available - needed} bytes of trailing data after the array ({layout} needs {needed})");

        return header.DType switch
        {
            NpyDType.Float32 => NpyArray.Wrap(header.DType, ReadArray<float>(stream, header.Count, path), header.Shape, path),
            NpyDType.Float64 => NpyArray.Wrap(header.DType, ReadArray<double>(stream, header.Count, path), header.Shape, path),
            NpyDType.Int32 => NpyArray.Wrap(header.DType, ReadArray<int>(stream, header.Count, path), header.Shape, path),
            NpyDType.Int64 => NpyArray.Wrap(header.DType, ReadArray<long>(stream, header.Count, path), header.Shape, path),
            _ => throw new FileFormatException(path, $"unsupported dtype {header.DType}"),
        };
    }

    private static string DecodeHeader(byte[] bytes, byte major, string path)
    {
        // Versions 1 and 2 are latin-1; version 3 exists only to allow UTF-8 (structured field names).
        if (major < 3) return Encoding.Latin1.GetString(bytes);
        try
        {
            return new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true).GetString(bytes);
        }
        catch (DecoderFallbackException)
        {
            throw new FileFormatException(path, "header is not valid UTF-8");
        }
    }

    private static T[] ReadArray<T>(Stream stream, long count, string path) where T : unmanaged
    {
        var data = new T[count];
        LittleEndianArrays.Read(stream, data, path);
        return data;
    }
}
