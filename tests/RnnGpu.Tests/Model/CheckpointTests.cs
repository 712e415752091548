using RnnGpu.Accelerators;
using RnnGpu.IO;
using RnnGpu.Model;
using RnnGpu.Tests.Support;

namespace RnnGpu.Tests.Model;

public sealed class CheckpointTests : IDisposable
{
    public static TheoryData<string> Backends => TestBackends.Names;

    private readonly string _dir = Directory.CreateTempSubdirectory("rnngpu-ckpt-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Theory]
    [MemberData(nameof(Backends))]
    public void Save_then_load_round_trips_weights_architecture_and_vocabulary(string backend)
    {
        using var acc = TestBackends.Open(backend);
        var config = new RnnConfig(5, 7, 3, Activation.Relu, 4, Bidirectional: true, Dropout: 0.25f, HeadInput: HeadInput.FinalState);
        using var model = RnnModel.Create(config, acc, seed: 8);
        model.Vocabulary = "ab\ncd é";
        string path = Path.Combine(_dir, "m.safetensors");
        Checkpoint.Save(model, path);

        using var loaded = Checkpoint.Load(path, acc);
        Assert.Equal(config, loaded.Config);
        Assert.Equal(model.Vocabulary, loaded.Vocabulary);
        foreach (var (name, t) in model.StateDict())
            Assert.Equal(t.Data, loaded.GetParameter(name).Data);

        // The names and shapes are PyTorch's, readable by any safetensors reader.
        var file = SafetensorsFile.Read(path);
        Assert.Equal([7, 5], file.Tensors["rnn.weight_ih_l0"].Shape);
        Assert.Equal([7, 14], file.Tensors["rnn.weight_ih_l2"].Shape);
        Assert.Equal([7, 14], file.Tensors["rnn.weight_ih_l2_reverse"].Shape);
        Assert.Equal([4, 14], file.Tensors["head.weight"].Shape);
        Assert.Equal("relu", file.Metadata["nonlinearity"]);
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public void A_pytorch_state_dict_without_metadata_loads_as_it_is(string backend)
    {
        // The golden fixture's initial weights were written by PyTorch's state_dict via make_golden.py.
        var golden = PyTorchGoldenTests.Load("relu_2layer_ce");
        var config = PyTorchGoldenTests.ConfigOf(golden);
        var stateDict = new ParameterLayout(config).Parameters.ToDictionary(p => p.Name, p => golden.Tensors[p.Name]);
        string path = Path.Combine(_dir, "torch.safetensors");
        SafetensorsFile.Write(path, stateDict, new Dictionary<string, string> { ["nonlinearity"] = "relu" });

        using var acc = TestBackends.Open(backend);
        using var model = Checkpoint.Load(path, acc);
        Assert.Equal(config, model.Config);
        var output = model.Forward(golden.Tensors["input"], golden.Tensors["h0"]).Output;
        Numerics.AssertClose(golden.Tensors["output"].Data, output.Data, 1e-4, 1e-5, "output of the loaded state_dict");
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public void Bad_checkpoints_are_file_format_errors_naming_the_file(string backend)
    {
        using var acc = TestBackends.Open(backend);
        using var model = RnnModel.Create(new RnnConfig(3, 4, 2, Activation.Tanh, 2), acc);
        var good = new Dictionary<string, Tensor>(model.StateDict());
        var meta = new Dictionary<string, string> { ["hidden_size"] = "4", ["num_layers"] = "2" };

        void Expect(string problem, Dictionary<string, Tensor> tensors, Dictionary<string, string> metadata)
        {
            string path = Path.Combine(_dir, $"bad-{Guid.NewGuid():N}.safetensors");
            SafetensorsFile.Write(path, tensors, metadata);
            var ex = Assert.Throws<FileFormatException>(() => Checkpoint.Load(path, acc));
            Assert.Contains(path, ex.Message);
            Assert.Contains(problem, ex.Message);
        }

        var missing = new Dictionary<string, Tensor>(good);
        missing.Remove("rnn.weight_hh_l1");
        Expect("missing tensor 'rnn.weight_hh_l1'", missing, meta);

        var misshapen = new Dictionary<string, Tensor>(good) { ["rnn.bias_ih_l1"] = Tensor.Zeros(5) };
        Expect("'rnn.bias_ih_l1' has shape [5], expected [4]", misshapen, meta);

        Expect("metadata 'hidden_size' says 9", good, new Dictionary<string, string> { ["hidden_size"] = "9" });
        Expect("not a whole number", good, new Dictionary<string, string> { ["num_layers"] = "two" });
        Expect("unknown nonlinearity 'gelu'", good, new Dictionary<string, string> { ["nonlinearity"] = "gelu" });
        Expect("not an RNN checkpoint", new Dictionary<string, Tensor> { ["x"] = Tensor.Zeros(2) }, meta);
        Expect("unexpected tensor 'extra'", new Dictionary<string, Tensor>(good) { ["extra"] = Tensor.Zeros(1) }, meta);
    }

    [Fact]
    public void Saving_over_a_checkpoint_replaces_it_whole()
    {
        using var acc = TestBackends.Open("cpu");
        string path = Path.Combine(_dir, "m.safetensors");
        using var first = RnnModel.Create(new RnnConfig(2, 3), acc, seed: 1);
        using var second = RnnModel.Create(new RnnConfig(4, 5, 2), acc, seed: 2);
        Checkpoint.Save(first, path);
        Checkpoint.Save(second, path);
        using var loaded = Checkpoint.Load(path, acc);
        Assert.Equal(second.Config, loaded.Config);
        Assert.Single(Directory.GetFiles(_dir));
    }
}
