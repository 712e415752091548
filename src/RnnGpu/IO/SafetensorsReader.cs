using System.Buffers.Binary;

namespace RnnGpu.IO;

/// <summary>Reads a safetensors file into float32 tensors, validating the whole header before allocating any tensor.</summary>
internal static class SafetensorsReader
{
    /// <summary>Real headers are kilobytes; the cap stops a corrupt length field from becoming a huge allocation.</summary>
    public const long MaxHeaderBytes = 100L * 1024 * 1024;

    private const int ChunkElements = 1 << 16;

    public static SafetensorsFile Read(string path)
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

    private static SafetensorsFile Read(FileStream stream, string path)
    {
        long fileLength = stream.Length;
        if (fileLength < 8)
            throw new FileFormatException(path, $"file is {fileLength} bytes, too short for the 8-byte header length");

        Span<byte> prefix = stackalloc byte[8];
        LittleEndianArrays.ReadExactly(stream, prefix, path);
        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(prefix);
        if (headerLength > MaxHeaderBytes)
            throw new FileFormatException(path, $"header length {headerLength} exceeds the {MaxHeaderBytes / (1024 * 1024)} MB limit");
        if ((long)headerLength > fileLength - 8)
            throw new FileFormatException(path, $"header length {headerLength} runs past the end of the file ({fileLength} bytes)");

        var json = new byte[headerLength];
        LittleEndianArrays.ReadExactly(stream, json, path);
        long dataStart = 8 + (long)headerLength;
        SafetensorsHeader header = SafetensorsHeader.Parse(json, fileLength - dataStart, path);

        var tensors = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        var dtypes = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (SafetensorsEntry entry in header.Entries)
        {
            stream.Position = dataStart + entry.Begin;
            tensors.Add(entry.Name, new Tensor(ReadData(stream, entry, path), entry.Shape));
            dtypes.Add(entry.Name, entry.DType.ToString());
        }
        return new SafetensorsFile(path, tensors, header.Metadata, dtypes);
    }

    private static float[] ReadData(Stream stream, SafetensorsEntry entry, string path)
    {
        var data = new float[entry.Count];
        if (entry.DType == SafetensorsDType.F32)
        {
            // The common case: the bytes are the array, no conversion buffer needed.
            LittleEndianArrays.Read(stream, data, path);
            return data;
        }

        int size = entry.DType.Size();
        var buffer = new byte[(int)Math.Min(entry.Count, ChunkElements) * size];
        for (int start = 0; start < data.Length; start += ChunkElements)
        {
            int n = Math.Min(ChunkElements, data.Length - start);
            Span<byte> bytes = buffer.AsSpan(0, n * size);
            LittleEndianArrays.ReadExactly(stream, bytes, path);
            entry.DType.ToFloat32(bytes, data.AsSpan(start, n));
        }
        return data;
    }
}
