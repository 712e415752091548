using RnnGpu.IO;
using Xunit;

namespace RnnGpu.Tests.IO;

public sealed class NpyArrayTests
{
    [Fact]
    public void Factories_CheckTheShapeAgainstTheData()
    {
        Assert.Throws<ShapeException>(() => NpyArray.FromFloat32([1f, 2f, 3f], 2, 2));
        Assert.Throws<ShapeException>(() => NpyArray.FromInt64([1L], -1));
        Assert.Throws<ShapeException>(() => NpyArray.FromInt32([1, 2]));
        Assert.Equal(1, NpyArray.FromFloat64([2.0]).Length);
    }

    [Fact]
    public void Factories_CopyTheCallersArrays()
    {
        float[] data = [1f, 2f];
        int[] shape = [2];
        NpyArray array = NpyArray.FromFloat32(data, shape);

        data[0] = 99f;
        shape[0] = 5;

        Assert.Equal([1f, 2f], array.ToFloat32());
        Assert.Equal([2], array.Shape);
    }

    [Fact]
    public void ToInt64_FromWholeFloats()
    {
        Assert.Equal([-3L, 0L, 16777216L], NpyArray.FromFloat32([-3f, -0f, 16777216f], 3).ToInt64());
        Assert.Equal([long.MinValue, 1L << 62], NpyArray.FromFloat64([-9223372036854775808.0, 4611686018427387904.0], 2).ToInt64());
    }

    [Theory]
    [InlineData(2.5, "element 1 is 2.5")]
    [InlineData(double.NaN, "element 1 is NaN")]
    [InlineData(double.PositiveInfinity, "element 1 is Infinity")]
    [InlineData(9223372036854775808.0, "element 1 is 9.223372036854776E+18")]
    public void ToInt64_RejectsFloatsWithoutAnInt64Value(double value, string problem)
    {
        var e = Assert.Throws<ShapeException>(() => NpyArray.FromFloat64([1.0, value], 2).ToInt64());
        Assert.Contains(problem, e.Message);
        Assert.Contains("not a whole number", e.Message);
    }

    [Fact]
    public void ToInt64_OnAReadArray_NamesTheFile()
    {
        using var dir = new TempDirectory();
        string path = dir.File("f.npy");
        NpyArray.FromFloat32([1f, 0.1f], 2).Write(path);

        var e = Assert.Throws<ShapeException>(() => NpyArray.Read(path).ToInt64());

        Assert.Contains(path, e.Message);
        Assert.Contains("element 1 is 0.1,", e.Message);
    }

    [Fact]
    public void Conversions_BetweenDTypes()
    {
        NpyArray ints = NpyArray.FromInt32([1, -2, int.MaxValue], 3);
        Assert.Equal([1f, -2f, 2147483648f], ints.ToFloat32());
        Assert.Equal([1L, -2L, int.MaxValue], ints.ToInt64());
        Assert.Equal([1.0, -2.0, int.MaxValue], ints.ToFloat64());

        NpyArray doubles = NpyArray.FromFloat64([0.1, 1e300], 2);
        Assert.Equal([0.1f, float.PositiveInfinity], doubles.ToFloat32());
        Assert.Equal([0.1, 1e300], doubles.ToFloat64());

        NpyArray longs = NpyArray.FromInt64([long.MaxValue], 1);
        Assert.Equal([9.223372E+18f], longs.ToFloat32());
    }

    [Fact]
    public void ToTensor_And_FromTensor()
    {
        var tensor = new Tensor([1f, 2f, 3f, 4f, 5f, 6f], 3, 2);
        NpyArray array = NpyArray.FromTensor(tensor);

        Assert.Equal(NpyDType.Float32, array.DType);
        Tensor back = NpyArray.FromInt64([1, 2, 3, 4, 5, 6], 3, 2).ToTensor();
        Assert.Equal(tensor.Shape, back.Shape);
        Assert.Equal(tensor.Data, back.Data);
        Assert.Equal(tensor.Data, array.ToTensor().Data);
        Assert.NotSame(array.ToTensor().Data, array.ToTensor().Data);
    }
}
