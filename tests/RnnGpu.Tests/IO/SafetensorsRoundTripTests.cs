using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using RnnGpu.IO;
using Xunit;

namespace RnnGpu.Tests.IO;

public sealed class SafetensorsRoundTripTests
{
    public static TheoryData<int[]> Shapes => new([], [7], [3, 4], [2, 3, 4], [2, 1, 3, 2], [0], [3, 0, 2]);

    [Theory]
    [MemberData(nameof(Shapes))]
    public void RoundTrip_KeepsShapeAndBitsForEveryRank(int[] shape)
    {
        using var dir = new TempDirectory();
        string path = dir.File("t.safetensors");
        var rng = new Random(shape.Length);
        var data = new float[Tensor.ElementCount(shape)];
        for (int i = 0; i < data.Length; i++) data[i] = (float)(rng.NextDouble() * 200 - 100);
        var tensor = new Tensor(data, shape);

        SafetensorsFile.Write(path, new Dictionary<string, Tensor> { ["x"] = tensor }, null);
        SafetensorsFile file = SafetensorsFile.Read(path);

        Tensor back = file.Get("x", shape);
        Assert.Equal(shape, back.Shape);
        BadFile.AssertBitsEqual(data, back.Data);
        Assert.Empty(file.Metadata);
        Assert.Equal(path, file.Path);
    }

    [Fact]
    public void RoundTrip_ManyTensors_SpecialValues_AndMetadata()
    {
        using var dir = new TempDirectory();
        string path = dir.File("model.safetensors");
        var tensors = new Dictionary<string, Tensor>
        {
            ["rnn.weight_hh_l0"] = new([float.NaN, float.PositiveInfinity, float.NegativeInfinity, -0f, float.Epsilon, float.MaxValue], 2, 3),
            ["bias"] = new([1f, -1f, 0.5f], 3),
            ["scalar"] = new([42f]),
            ["émbedding.√"] = new([1f, 2f, 3f, 4f], 1, 2, 2, 1),
        };
        var metadata = new Dictionary<string, string> { ["format"] = "pt", ["note"] = "ünïcode \"quoted\" <tag>", ["empty"] = "" };

        SafetensorsFile.Write(path, tensors, metadata);
        SafetensorsFile file = SafetensorsFile.Read(path);

        Assert.Equal(tensors.Keys.Order(StringComparer.Ordinal), file.Tensors.Keys.Order(StringComparer.Ordinal));
        foreach (var (name, tensor) in tensors)
        {
            Assert.Equal(tensor.Shape, file.Tensors[name].Shape);
            BadFile.AssertBitsEqual(tensor.Data, file.Tensors[name].Data);
        }
        Assert.Equal(metadata.OrderBy(m => m.Key), file.Metadata.OrderBy(m => m.Key));
    }

    [Fact]
    public void Write_SortsNames_AlignsTheBlob_AndIsReproducible()
    {
        using var dir = new TempDirectory();
        var a = new Tensor([1f, 2f, 3f], 3);
        var b = new Tensor([4f], 1);
        var c = new Tensor([5f, 6f], 2, 1);
        string first = dir.File("1.safetensors"), second = dir.File("2.safetensors");

        SafetensorsFile.Write(first, new Dictionary<string, Tensor> { ["zeta"] = a, ["alpha"] = b, ["Mid"] = c }, new Dictionary<string, string> { ["k"] = "v" });
        SafetensorsFile.Write(second, new Dictionary<string, Tensor> { ["Mid"] = c, ["zeta"] = a, ["alpha"] = b }, new Dictionary<string, string> { ["k"] = "v" });

        byte[] bytes = File.ReadAllBytes(first);
        Assert.Equal(bytes, File.ReadAllBytes(second));

        long n = (long)BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        Assert.Equal(0, (8 + n) % 8);
        string header = Encoding.UTF8.GetString(bytes, 8, (int)n);
        string json = header.TrimEnd(' ');
        Assert.True(json.EndsWith('}'), "header padding must be spaces only");

        using var doc = JsonDocument.Parse(json);
        Assert.Equal(["__metadata__", "Mid", "alpha", "zeta"], doc.RootElement.EnumerateObject().Select(p => p.Name));
        Assert.Equal("F32", doc.RootElement.GetProperty("Mid").GetProperty("dtype").GetString());
        Assert.Equal([0L, 8L], doc.RootElement.GetProperty("Mid").GetProperty("data_offsets").EnumerateArray().Select(e => e.GetInt64()));
        Assert.Equal([8L, 12L], doc.RootElement.GetProperty("alpha").GetProperty("data_offsets").EnumerateArray().Select(e => e.GetInt64()));
        Assert.Equal([12L, 24L], doc.RootElement.GetProperty("zeta").GetProperty("data_offsets").EnumerateArray().Select(e => e.GetInt64()));
        Assert.Equal(8 + n + 24, bytes.Length);
        Assert.Equal(5f, BinaryPrimitives.ReadSingleLittleEndian(bytes.AsSpan((int)(8 + n))));
    }

    [Fact]
    public void Write_OfNoTensors_ReadsBackEmpty()
    {
        using var dir = new TempDirectory();
        string path = dir.File("empty.safetensors");

        SafetensorsFile.Write(path, new Dictionary<string, Tensor>(), null);

        Assert.Empty(SafetensorsFile.Read(path).Tensors);
    }

    [Fact]
    public void Write_RejectsTheReservedMetadataName()
    {
        using var dir = new TempDirectory();
        string path = dir.File("x.safetensors");

        Assert.Throws<ArgumentException>(() => SafetensorsFile.Write(path, new Dictionary<string, Tensor> { ["__metadata__"] = new([1f], 1) }, null));
        Assert.False(File.Exists(path));
    }

    [Fact]
    public void Get_ReturnsTheTensorWithTheExpectedShape()
    {
        using var dir = new TempDirectory();
        string path = dir.File("g.safetensors");
        SafetensorsFile.Write(path, new Dictionary<string, Tensor> { ["x"] = Tensor.Zeros(3, 4) }, null);

        Assert.Equal([3, 4], SafetensorsFile.Read(path).Get("x", 3, 4).Shape);
    }

    [Fact]
    public void Get_MissingTensor_NamesTheFileAndTheTensor()
    {
        using var dir = new TempDirectory();
        string path = dir.File("g.safetensors");
        SafetensorsFile.Write(path, new Dictionary<string, Tensor> { ["rnn.weight_hh_l0"] = Tensor.Zeros(2) }, null);
        SafetensorsFile file = SafetensorsFile.Read(path);

        BadFile.AssertRejected(path, "missing tensor 'rnn.weight_hh_l1'", () => file.Get("rnn.weight_hh_l1", 2));
    }

    [Fact]
    public void Get_WrongShape_NamesBothShapes()
    {
        using var dir = new TempDirectory();
        string path = dir.File("g.safetensors");
        SafetensorsFile.Write(path, new Dictionary<string, Tensor> { ["x"] = Tensor.Zeros(3, 4) }, null);
        SafetensorsFile file = SafetensorsFile.Read(path);

        BadFile.AssertRejected(path, "tensor 'x' has shape [3, 4], expected [3, 5]", () => file.Get("x", 3, 5));
        BadFile.AssertRejected(path, "tensor 'x' has shape [3, 4], expected [12]", () => file.Get("x", 12));
    }
}
