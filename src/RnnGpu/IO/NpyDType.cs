namespace RnnGpu.IO;

/// <summary>The .npy element types supported, all little-endian in the file.</summary>
public enum NpyDType
{
    Float32,
    Float64,
    Int32,
    Int64,
}

internal static class NpyDTypes
{
    public static int Size(this NpyDType dtype) => dtype switch
    {
        NpyDType.Float32 or NpyDType.Int32 => 4,
        NpyDType.Float64 or NpyDType.Int64 => 8,
        _ => throw new ArgumentOutOfRangeException(nameof(dtype)),
    };

    /// <summary>The descr string numpy writes: always explicitly little-endian.</summary>
    public static string Descr(this NpyDType dtype) => dtype switch
    {
        NpyDType.Float32 => "<f4",
        NpyDType.Float64 => "<f8",
        NpyDType.Int32 => "<i4",
        NpyDType.Int64 => "<i8",
        _ => throw new ArgumentOutOfRangeException(nameof(dtype)),
    };

    public static bool TryParseDescr(string descr, out NpyDType dtype)
    {
        dtype = default;
        if (descr.Length != 3) return false;
        // '<' is little-endian; '=' means the writer's native order, taken as ours when we are little-endian.
        // '|' (no byte order) only makes sense for 1-byte types, none of which are supported.
        bool littleEndian = descr[0] == '<' || (descr[0] == '=' && BitConverter.IsLittleEndian);
        if (!littleEndian) return false;
        switch (descr.AsSpan(1))
        {
            case "f4": dtype = NpyDType.Float32; return true;
            case "f8": dtype = NpyDType.Float64; return true;
            case "i4": dtype = NpyDType.Int32; return true;
            case "i8": dtype = NpyDType.Int64; return true;
            default: return false;
        }
    }
}
