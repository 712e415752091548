using System.Text;

namespace RnnGpu.OrtBench;

/// <summary>Reads a little-endian float32 .npy array (C order), the only kind export_onnx.py writes.</summary>
internal static class Npy
{
    public static (float[] Data, long[] Shape) ReadFloat32(string path)
    {
        using var reader = new BinaryReader(File.OpenRead(path));
        if (reader.ReadByte() != 0x93 || Encoding.ASCII.GetString(reader.ReadBytes(5)) != "NUMPY")
            throw new FormatException($"{path} is not an .npy file");
        int major = reader.ReadByte();
        reader.ReadByte();
        int headerLength = major == 1 ? reader.ReadUInt16() : (int)reader.ReadUInt32();
        string header = Encoding.ASCII.GetString(reader.ReadBytes(headerLength));
        if (!header.Contains("'<f4'") || header.Contains("'fortran_order': True"))
            throw new FormatException($"{path} is not a C-order little-endian float32 array: {header.Trim()}");
        int open = header.IndexOf('(', header.IndexOf("shape", StringComparison.Ordinal)), close = header.IndexOf(')', open);
        long[] shape = header[(open + 1)..close].Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(long.Parse).ToArray();
        long count = shape.Aggregate(1L, (a, b) => a * b);
        var bytes = reader.ReadBytes(checked((int)(count * 4)));
        if (bytes.Length != count * 4) throw new FormatException($"{path} ends before its {count} values");
        var data = new float[count];
        Buffer.BlockCopy(bytes, 0, data, 0, bytes.Length);
        return (data, shape);
    }
}
