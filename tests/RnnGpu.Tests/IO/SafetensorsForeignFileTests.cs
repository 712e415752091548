using System.Text;
using RnnGpu.IO;
using Xunit;

namespace RnnGpu.Tests.IO;

/// <summary>Files assembled byte by byte, as other safetensors writers produce them.</summary>
public sealed class SafetensorsForeignFileTests
{
    [Fact]
    public void Read_ConvertsEveryDType_FromAnUnpaddedUnsortedHeader()
    {
        using var dir = new TempDirectory();
        const string json = """
            {
              "f64": {"dtype": "F64", "shape": [2], "data_offsets": [0, 16]},
              "bf16": {"dtype": "BF16", "shape": [3, 1], "data_offsets": [16, 22]},
              "f16": {"dtype": "F16", "shape": [2], "data_offsets": [22, 26]},
              "i64": {"dtype": "I64", "shape": [1, 1], "data_offsets": [26, 34]},
              "i32": {"dtype": "I32", "shape": [2], "data_offsets": [34, 42]},
              "f32": {"dtype": "F32", "shape": [], "data_offsets": [42, 46]},
              "__metadata__": {"format": "pt", "epoch": "3"}
            }
            """;
        byte[] blob = HandMadeFiles.Concat(
            HandMadeFiles.Float64(1.5, -3.25),
            HandMadeFiles.UInt16(0x3F80, 0xC000, 0x4049), // bfloat16 1.0, -2.0, 3.140625
            HandMadeFiles.UInt16(0x3C00, 0xC100),         // float16 1.0, -2.5
            HandMadeFiles.Int64(-7),
            HandMadeFiles.Int32(5, -9),
            HandMadeFiles.Float32(0.25f));
        string path = dir.WriteBytes("foreign.safetensors", HandMadeFiles.Safetensors(json, blob));

        SafetensorsFile file = SafetensorsFile.Read(path);

        Assert.Equal([1.5f, -3.25f], file.Get("f64", 2).Data);
        Assert.Equal([1f, -2f, 3.140625f], file.Get("bf16", 3, 1).Data);
        Assert.Equal([1f, -2.5f], file.Get("f16", 2).Data);
        Assert.Equal([-7f], file.Get("i64", 1, 1).Data);
        Assert.Equal([5f, -9f], file.Get("i32", 2).Data);
        Assert.Equal([0.25f], file.Get("f32").Data);
        Assert.Equal(0, file.Get("f32").Rank);
        Assert.Equal("pt", file.Metadata["format"]);
        Assert.Equal("3", file.Metadata["epoch"]);
        Assert.Equal(6, file.Tensors.Count);
    }

    [Fact]
    public void Read_AcceptsAHeaderPaddedWithSpaces_LikeTheReferenceWriter()
    {
        using var dir = new TempDirectory();
        string json = "{\"test\":{\"dtype\":\"I32\",\"shape\":[2,2],\"data_offsets\":[0,16]}}";
        json += new string(' ', (8 - json.Length % 8) % 8);
        string path = dir.WriteBytes("padded.safetensors", HandMadeFiles.Safetensors(json, HandMadeFiles.Int32(1, 2, 3, 4)));

        Assert.Equal([1f, 2f, 3f, 4f], SafetensorsFile.Read(path).Get("test", 2, 2).Data);
    }

    [Fact]
    public void Read_ConvertsLargeDoublesAndSpecialHalfValues()
    {
        using var dir = new TempDirectory();
        const string json = """{"d":{"dtype":"F64","shape":[2],"data_offsets":[0,16]},"h":{"dtype":"F16","shape":[3],"data_offsets":[16,22]},"b":{"dtype":"BF16","shape":[2],"data_offsets":[22,26]}}""";
        byte[] blob = HandMadeFiles.Concat(
            HandMadeFiles.Float64(1e300, 0.1),
            HandMadeFiles.UInt16(0x7C00, 0xFC00, 0x7E00), // float16 +inf, -inf, NaN
            HandMadeFiles.UInt16(0x7F80, 0x0001));        // bfloat16 +inf, smallest subnormal
        string path = dir.WriteBytes("special.safetensors", HandMadeFiles.Safetensors(json, blob));

        SafetensorsFile file = SafetensorsFile.Read(path);

        Assert.Equal([float.PositiveInfinity, 0.1f], file.Get("d", 2).Data);
        Assert.Equal(float.PositiveInfinity, file.Get("h", 3).Data[0]);
        Assert.Equal(float.NegativeInfinity, file.Get("h", 3).Data[1]);
        Assert.True(float.IsNaN(file.Get("h", 3).Data[2]));
        Assert.Equal([float.PositiveInfinity, BitConverter.Int32BitsToSingle(0x00010000)], file.Get("b", 2).Data);
    }

    [Fact]
    public void Read_AcceptsAnEmptyHeaderObject()
    {
        using var dir = new TempDirectory();
        string path = dir.WriteBytes("none.safetensors", HandMadeFiles.Safetensors("{}", []));

        SafetensorsFile file = SafetensorsFile.Read(path);

        Assert.Empty(file.Tensors);
        Assert.Empty(file.Metadata);
    }

    [Fact]
    public void Read_ToleratesOverlappingTensorsWithinTheBlob()
    {
        using var dir = new TempDirectory();
        const string json = """{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}""";
        string path = dir.WriteBytes("overlap.safetensors", HandMadeFiles.Safetensors(json, HandMadeFiles.Float32(1f, 2f, 3f, 4f)));

        SafetensorsFile file = SafetensorsFile.Read(path);

        Assert.Equal([1f, 2f], file.Get("a", 2).Data);
        Assert.Equal([2f, 3f], file.Get("b", 2).Data);
    }

    [Fact]
    public void Read_LargeTensor_SpanningManyReadChunks()
    {
        using var dir = new TempDirectory();
        const int n = 300_000;
        var values = new double[n];
        for (int i = 0; i < n; i++) values[i] = i * 0.5;
        string json = $$$"""{"big":{"dtype":"F64","shape":[{{{n}}}],"data_offsets":[0,{{{n * 8}}}]}}""";
        string path = dir.WriteBytes("big.safetensors", HandMadeFiles.Safetensors(Encoding.UTF8.GetBytes(json), HandMadeFiles.Float64(values)));

        float[] data = SafetensorsFile.Read(path).Get("big", n).Data;

        for (int i = 0; i < n; i++) Assert.Equal((float)(i * 0.5), data[i]);
    }
}
