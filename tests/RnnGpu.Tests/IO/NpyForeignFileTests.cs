using System.Text;
using RnnGpu.IO;
using Xunit;

namespace RnnGpu.Tests.IO;

/// <summary>.npy files assembled byte by byte the way numpy (old and new) and other writers produce them.</summary>
public sealed class NpyForeignFileTests
{
    [Fact]
    public void Read_ModernNumpySave_WithGrowthAxisPadding()
    {
        using var dir = new TempDirectory();
        // numpy >= 1.23 appends 21 - len(repr(shape[0])) spaces for in-place growth before the usual 64-byte padding.
        string dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }" + new string(' ', 20);
        byte[] bytes = HandMadeFiles.Npy(dict, HandMadeFiles.Float32(0, 1, 2, 3, 4, 5));
        Assert.Equal(128 + 24, bytes.Length);
        string path = dir.WriteBytes("numpy.npy", bytes);

        NpyArray array = NpyArray.Read(path);

        Assert.Equal(NpyDType.Float32, array.DType);
        Assert.Equal([2, 3], array.Shape);
        Assert.Equal([0f, 1f, 2f, 3f, 4f, 5f], array.ToFloat32());
        Tensor t = array.ToTensor();
        Assert.Equal([2, 3], t.Shape);
        Assert.Equal(5f, t[1, 2]);
    }

    [Fact]
    public void Read_OldPython2Numpy_WithLongSuffixesAnd16ByteAlignment()
    {
        using var dir = new TempDirectory();
        string dict = "{'descr': '<i8', 'fortran_order': False, 'shape': (2L, 3L), }";
        int total = (10 + dict.Length + 1 + 15) / 16 * 16;
        string header = dict.PadRight(total - 10 - 1) + "\n";
        string path = dir.WriteBytes("py2.npy", HandMadeFiles.Npy(Encoding.Latin1.GetBytes(header), HandMadeFiles.Int64(1, -2, 3, -4, 5, long.MinValue), 1, pad: false));

        NpyArray array = NpyArray.Read(path);

        Assert.Equal(NpyDType.Int64, array.DType);
        Assert.Equal([2, 3], array.Shape);
        Assert.Equal([1L, -2L, 3L, -4L, 5L, long.MinValue], array.ToInt64());
    }

    [Fact]
    public void Read_Scalar()
    {
        using var dir = new TempDirectory();
        string path = dir.WriteBytes("scalar.npy", HandMadeFiles.Npy("{'descr': '<f8', 'fortran_order': False, 'shape': (), }", HandMadeFiles.Float64(3.5)));

        NpyArray array = NpyArray.Read(path);

        Assert.Empty(array.Shape);
        Assert.Equal(1, array.Length);
        Assert.Equal([3.5], array.ToFloat64());
        Assert.Equal(0, array.ToTensor().Rank);
    }

    [Fact]
    public void Read_OneDimensional_WithTrailingCommaInTheTuple()
    {
        using var dir = new TempDirectory();
        string path = dir.WriteBytes("vec.npy", HandMadeFiles.Npy("{'descr': '<i4', 'fortran_order': False, 'shape': (5,), }", HandMadeFiles.Int32(5, 4, 3, 2, int.MinValue)));

        NpyArray array = NpyArray.Read(path);

        Assert.Equal(NpyDType.Int32, array.DType);
        Assert.Equal([5], array.Shape);
        Assert.Equal([5L, 4L, 3L, 2L, int.MinValue], array.ToInt64());
    }

    [Fact]
    public void Read_KeysInAnyOrder_DoubleQuotes_NoTrailingComma_NoPadding()
    {
        using var dir = new TempDirectory();
        byte[] dict = Encoding.ASCII.GetBytes("{\"shape\": (2,),\n \"fortran_order\":False,\"descr\":\"<f8\"}");
        string path = dir.WriteBytes("odd.npy", HandMadeFiles.Npy(dict, HandMadeFiles.Float64(-1.25, 1e-300), 1, pad: false));

        NpyArray array = NpyArray.Read(path);

        Assert.Equal(NpyDType.Float64, array.DType);
        Assert.Equal([-1.25, 1e-300], array.ToFloat64());
    }

    [Theory]
    [InlineData("=f4", NpyDType.Float32)]
    [InlineData("=f8", NpyDType.Float64)]
    [InlineData("=i4", NpyDType.Int32)]
    [InlineData("=i8", NpyDType.Int64)]
    public void Read_NativeByteOrderDescr(string descr, NpyDType expected)
    {
        Assert.True(BitConverter.IsLittleEndian);
        using var dir = new TempDirectory();
        int size = expected is NpyDType.Float64 or NpyDType.Int64 ? 8 : 4;
        byte[] data = size == 8 ? HandMadeFiles.Int64(0, 0) : HandMadeFiles.Int32(0, 0);
        string path = dir.WriteBytes("native.npy", HandMadeFiles.Npy($"{{'descr': '{descr}', 'fortran_order': False, 'shape': (2,), }}", data));

        NpyArray array = NpyArray.Read(path);

        Assert.Equal(expected, array.DType);
        Assert.Equal([0L, 0L], array.ToInt64());
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public void Read_Versions2And3(int major)
    {
        using var dir = new TempDirectory();
        string path = dir.WriteBytes($"v{major}.npy", HandMadeFiles.Npy("{'descr': '<f4', 'fortran_order': False, 'shape': (1, 2, 1, 2), }", HandMadeFiles.Float32(1, 2, 3, 4), major));

        NpyArray array = NpyArray.Read(path);

        Assert.Equal([1, 2, 1, 2], array.Shape);
        Assert.Equal([1f, 2f, 3f, 4f], array.ToFloat32());
    }

    [Fact]
    public void Read_Version3_WithUtf8InTheHeader()
    {
        using var dir = new TempDirectory();
        // Non-ASCII only where a literal may hold it: numpy uses v3 for UTF-8 field names; here it sits in the padding-free whitespace-free dict via a tab.
        byte[] dict = Encoding.UTF8.GetBytes("{'descr': '<i4',\t'fortran_order': False, 'shape': (1,)}");
        string path = dir.WriteBytes("v3.npy", HandMadeFiles.Npy(dict, HandMadeFiles.Int32(7), 3, pad: false));

        Assert.Equal([7L], NpyArray.Read(path).ToInt64());
    }

    [Fact]
    public void Read_EmptyArray_HasNoData()
    {
        using var dir = new TempDirectory();
        string path = dir.WriteBytes("empty.npy", HandMadeFiles.Npy("{'descr': '<f4', 'fortran_order': False, 'shape': (3, 0), }", []));

        NpyArray array = NpyArray.Read(path);

        Assert.Equal([3, 0], array.Shape);
        Assert.Empty(array.ToFloat32());
    }

    [Fact]
    public void Read_LargeArray_SpanningManyReadChunks()
    {
        using var dir = new TempDirectory();
        const int n = 600_000;
        long[] values = Enumerable.Range(0, n).Select(i => (long)i * 1_000_003).ToArray();
        string path = dir.WriteBytes("big.npy", HandMadeFiles.Npy($"{{'descr': '<i8', 'fortran_order': False, 'shape': ({n},), }}", HandMadeFiles.Int64(values)));

        Assert.Equal(values, NpyArray.Read(path).ToInt64());
    }
}
