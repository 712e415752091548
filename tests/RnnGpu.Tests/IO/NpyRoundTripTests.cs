using System.Buffers.Binary;
using RnnGpu.IO;
using Xunit;

namespace RnnGpu.Tests.IO;

public sealed class NpyRoundTripTests
{
    private static readonly int[][] Shapes = [[], [7], [3, 4], [2, 3, 4], [2, 1, 3, 2], [0], [3, 0, 2]];

    public static TheoryData<NpyDType, int[]> DTypesAndShapes()
    {
        var data = new TheoryData<NpyDType, int[]>();
        foreach (NpyDType dtype in Enum.GetValues<NpyDType>())
            foreach (int[] shape in Shapes)
                data.Add(dtype, shape);
        return data;
    }

    [Theory]
    [MemberData(nameof(DTypesAndShapes))]
    public void RoundTrip_KeepsDTypeShapeAndValues(NpyDType dtype, int[] shape)
    {
        using var dir = new TempDirectory();
        string path = dir.File("a.npy");
        int n = (int)Tensor.ElementCount(shape);
        var rng = new Random(shape.Length * 10 + (int)dtype);
        NpyArray array = dtype switch
        {
            NpyDType.Float32 => NpyArray.FromFloat32(Enumerable.Range(0, n).Select(_ => (float)(rng.NextDouble() - 0.5) * 1e6f).ToArray(), shape),
            NpyDType.Float64 => NpyArray.FromFloat64(Enumerable.Range(0, n).Select(_ => (rng.NextDouble() - 0.5) * 1e300).ToArray(), shape),
            NpyDType.Int32 => NpyArray.FromInt32(Enumerable.Range(0, n).Select(i => i == 0 ? int.MinValue : rng.Next(int.MinValue, int.MaxValue)).ToArray(), shape),
            _ => NpyArray.FromInt64(Enumerable.Range(0, n).Select(i => i == 0 ? long.MaxValue : rng.NextInt64(long.MinValue, long.MaxValue)).ToArray(), shape),
        };

        array.Write(path);
        NpyArray back = NpyArray.Read(path);

        Assert.Equal(dtype, back.DType);
        Assert.Equal(shape, back.Shape);
        Assert.Equal(n, back.Length);
        Assert.Equal(path, back.SourcePath);
        // The file is exactly preamble + data, and the preamble is 64-byte aligned as numpy writes it.
        byte[] bytes = File.ReadAllBytes(path);
        int preamble = 10 + BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(8));
        Assert.Equal(0, preamble % 64);
        Assert.Equal(1, bytes[6]);
        Assert.Equal(preamble + n * (dtype is NpyDType.Float64 or NpyDType.Int64 ? 8 : 4), bytes.Length);
        switch (dtype)
        {
            case NpyDType.Float32: BadFile.AssertBitsEqual(array.ToFloat32(), back.ToFloat32()); break;
            case NpyDType.Float64:
                Assert.Equal(HandMadeFiles.Float64(array.ToFloat64()), HandMadeFiles.Float64(back.ToFloat64()));
                break;
            default: Assert.Equal(array.ToInt64(), back.ToInt64()); break;
        }
    }

    [Fact]
    public void RoundTrip_SpecialFloats_BitExact()
    {
        using var dir = new TempDirectory();
        string path = dir.File("special.npy");
        float[] values = [float.NaN, -0f, float.Epsilon, float.PositiveInfinity, float.NegativeInfinity, float.MinValue];

        NpyArray.FromFloat32(values, 2, 3).Write(path);

        BadFile.AssertBitsEqual(values, NpyArray.Read(path).ToFloat32());
    }

    [Fact]
    public void Writer_ProducesExactlyTheBytesNumpySaveWrites()
    {
        using var dir = new TempDirectory();
        string path = dir.File("np.npy");
        // numpy.save(np.arange(6, dtype='<f4').reshape(2, 3)): header length 118, dict padded with spaces to 127 bytes, then '\n'.
        string dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }";
        byte[] expected = HandMadeFiles.Concat(
            [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', 1, 0, 118, 0],
            System.Text.Encoding.ASCII.GetBytes(dict.PadRight(117) + "\n"),
            HandMadeFiles.Float32(0, 1, 2, 3, 4, 5));

        NpyArray.FromFloat32([0, 1, 2, 3, 4, 5], 2, 3).Write(path);

        Assert.Equal(expected, File.ReadAllBytes(path));
    }

    [Fact]
    public void Writer_UsesVersion2_WhenTheHeaderOutgrows64KB()
    {
        using var dir = new TempDirectory();
        string path = dir.File("v2.npy");
        int[] shape = Enumerable.Repeat(1, 22_000).ToArray(); // "1, " x 22000 > 65535 header bytes

        NpyArray.FromInt32([123], shape).Write(path);

        byte[] bytes = File.ReadAllBytes(path);
        Assert.Equal(2, bytes[6]);
        Assert.Equal(0L, (12L + BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(8))) % 64);
        NpyArray back = NpyArray.Read(path);
        Assert.Equal(shape, back.Shape);
        Assert.Equal([123L], back.ToInt64());
    }

    [Fact]
    public void Write_ReplacesAnExistingFile()
    {
        using var dir = new TempDirectory();
        string path = dir.File("r.npy");
        NpyArray.FromInt64([1, 2, 3], 3).Write(path);

        NpyArray.FromFloat64([4.5], 1).Write(path);

        NpyArray back = NpyArray.Read(path);
        Assert.Equal(NpyDType.Float64, back.DType);
        Assert.Equal([4.5f], back.ToFloat32());
        Assert.Single(Directory.GetFiles(dir.Path));
    }

    [Fact]
    public void Write_IntoAMissingDirectory_FailsAndCreatesNothing()
    {
        using var dir = new TempDirectory();
        string path = Path.Combine(dir.Path, "absent", "x.npy");

        Assert.Throws<DirectoryNotFoundException>(() => NpyArray.FromInt32([1], 1).Write(path));
        Assert.Empty(Directory.GetFileSystemEntries(dir.Path));
    }
}
