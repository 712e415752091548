using System.Globalization;

namespace RnnGpu.IO;

/// <summary>
/// An n-dimensional array as stored in a NumPy .npy file: C order, one of four little-endian dtypes.
/// The data is kept in its own type (float[], double[], int[] or long[]) so reading and writing are lossless;
/// the To* methods convert.
/// </summary>
public sealed class NpyArray
{
    private NpyArray(NpyDType dtype, Array data, int[] shape, string? sourcePath)
    {
        DType = dtype;
        Data = data;
        Shape = shape;
        SourcePath = sourcePath;
    }

    public int[] Shape { get; }

    public NpyDType DType { get; }

    /// <summary>Number of elements (the product of <see cref="Shape"/>; 1 for a scalar).</summary>
    public int Length => Data.Length;

    /// <summary>The file this array was read from, or null; used in error messages.</summary>
    public string? SourcePath { get; }

    /// <summary>The typed storage: float[], double[], int[] or long[] according to <see cref="DType"/>.</summary>
    internal Array Data { get; }

    // The factories copy, so later changes to the caller's arrays cannot alter this one.
    public static NpyArray FromFloat32(float[] data, params int[] shape) => Create(NpyDType.Float32, data, shape);
    public static NpyArray FromFloat64(double[] data, params int[] shape) => Create(NpyDType.Float64, data, shape);
    public static NpyArray FromInt32(int[] data, params int[] shape) => Create(NpyDType.Int32, data, shape);
    public static NpyArray FromInt64(long[] data, params int[] shape) => Create(NpyDType.Int64, data, shape);

    public static NpyArray FromTensor(Tensor tensor)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        return FromFloat32(tensor.Data, tensor.Shape);
    }

    /// <summary>Reads an .npy file; any damaged, truncated or unsupported content raises <see cref="FileFormatException"/>.</summary>
    public static NpyArray Read(string path) => NpyReader.Read(path);

    /// <summary>Writes version 1.0 (2.0 if the header is over 64 KB), atomically replacing <paramref name="path"/>.</summary>
    public void Write(string path) => NpyWriter.Write(path, this);

    /// <summary>A copy as float32; float64 and large integers round to the nearest float.</summary>
    public float[] ToFloat32() => Data switch
    {
        float[] f => (float[])f.Clone(),
        double[] d => Array.ConvertAll(d, v => (float)v),
        int[] i => Array.ConvertAll(i, v => (float)v),
        long[] l => Array.ConvertAll(l, v => (float)v),
        _ => throw new InvalidOperationException($"unexpected storage {Data.GetType()}"),
    };

    /// <summary>A copy as float64; exact except for int64 values beyond 2^53.</summary>
    public double[] ToFloat64() => Data switch
    {
        double[] d => (double[])d.Clone(),
        float[] f => Array.ConvertAll(f, v => (double)v),
        int[] i => Array.ConvertAll(i, v => (double)v),
        long[] l => Array.ConvertAll(l, v => (double)v),
        _ => throw new InvalidOperationException($"unexpected storage {Data.GetType()}"),
    };

    /// <summary>A copy as int64; floats must be whole numbers in range, otherwise <see cref="ShapeException"/> names the offending element.</summary>
    public long[] ToInt64() => Data switch
    {
        long[] l => (long[])l.Clone(),
        int[] i => Array.ConvertAll(i, v => (long)v),
        float[] f => WholeNumbers(f.Length, k => f[k], k => f[k].ToString("R", CultureInfo.InvariantCulture)),
        double[] d => WholeNumbers(d.Length, k => d[k], k => d[k].ToString("R", CultureInfo.InvariantCulture)),
        _ => throw new InvalidOperationException($"unexpected storage {Data.GetType()}"),
    };

    public Tensor ToTensor() => new(ToFloat32(), Shape);

    internal static NpyArray Wrap(NpyDType dtype, Array data, int[] shape, string? sourcePath) => new(dtype, data, shape, sourcePath);

    private static NpyArray Create<T>(NpyDType dtype, T[] data, int[] shape)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(shape);
        long count = Tensor.ElementCount(shape);
        if (count != data.Length)
            throw new ShapeException($"shape [{string.Join(", ", shape)}] holds {count} elements, the data has {data.Length}");
        return new NpyArray(dtype, (T[])data.Clone(), (int[])shape.Clone(), null);
    }

    private long[] WholeNumbers(int length, Func<int, double> at, Func<int, string> show)
    {
        var result = new long[length];
        for (int k = 0; k < length; k++)
        {
            double v = at(k);
            // 2^63 is exactly representable; anything at or above it (or NaN, infinity, fractions) has no int64.
            if (!double.IsInteger(v) || v < -9223372036854775808.0 || v >= 9223372036854775808.0)
            {
                string where = SourcePath is null ? "" : $"{SourcePath}: ";
                throw new ShapeException($"{where}element {k} is {show(k)}, not a whole number that fits in int64");
            }
            result[k] = (long)v;
        }
        return result;
    }
}
