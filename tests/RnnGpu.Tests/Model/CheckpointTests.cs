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

    public static IEnumerable<TheoryDataRow<string, string>> CellFixtures() =>
        from b in TestBackends.Names
        from f in new[] { "cellmodel_lstm_1layer_mse", "cellmodel_lstm_proj_2layer_ce", "cellmodel_lstm_bidi_packed_mse", "cellmodel_gru_2layer_ce",
            "cellmodel_gru_bidi_packed_mse" }
        select new TheoryDataRow<string, string>(b.Data, f);

    /// <summary>
    /// PyTorch's nn.LSTM (with proj_size) and nn.GRU state_dicts with an nn.Linear head, saved with no metadata at all: the
    /// cell, sizes, layers, directions and projection come from the names and shapes; the outputs are PyTorch's; saving writes
    /// the same names and values back.
    /// </summary>
    [Theory]
    [MemberData(nameof(CellFixtures))]
    public void A_pytorch_lstm_or_gru_state_dict_without_metadata_loads_and_saves_unchanged(string backend, string fixture)
    {
        var golden = PyTorchGoldenTests.Load(fixture);
        var config = PyTorchGoldenTests.ConfigOf(golden) with { Dropout = 0f };
        var stateDict = golden.Tensors.Where(kv => kv.Key.StartsWith("rnn.", StringComparison.Ordinal) || kv.Key.StartsWith("head.", StringComparison.Ordinal))
            .ToDictionary(kv => kv.Key, kv => kv.Value);
        string path = Path.Combine(_dir, "torch.safetensors");
        SafetensorsFile.Write(path, stateDict, new Dictionary<string, string>());

        using var acc = TestBackends.Open(backend);
        using var model = Checkpoint.Load(path, acc);
        Assert.Equal(config, model.Config);
        var result = model.Forward(golden.Tensors["input"], golden.Tensors["h0"], PyTorchGoldenTests.LengthsOf(golden), PyTorchGoldenTests.CellOf(golden));
        Numerics.AssertClose(golden.Tensors["output"].Data, result.Output.Data, 1e-4, 1e-5, "output of the loaded state_dict");

        string saved = Path.Combine(_dir, "saved.safetensors");
        Checkpoint.Save(model, saved);
        var back = SafetensorsFile.Read(saved);
        Assert.Equal(stateDict.Keys.Order(), back.Tensors.Keys.Order());
        foreach (var (name, tensor) in stateDict)
        {
            Assert.Equal(tensor.Shape, back.Tensors[name].Shape);
            Assert.Equal(tensor.Data, back.Tensors[name].Data);
        }
        Assert.Equal(config.Cell.ToName(), back.Metadata["cell"]);
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

        using var lstm = RnnModel.Create(new RnnConfig(3, 4, 1, Cell: CellKind.Lstm), acc);
        var lstmTensors = new Dictionary<string, Tensor>(lstm.StateDict());
        Expect("metadata 'cell' says gru but the tensors' shapes are those of a lstm", lstmTensors, new Dictionary<string, string> { ["cell"] = "gru" });
        Expect("unknown cell 'mgu'", lstmTensors, new Dictionary<string, string> { ["cell"] = "mgu" });
        var oddRows = new Dictionary<string, Tensor>(lstmTensors) { ["rnn.weight_ih_l0"] = Tensor.Zeros(10, 3) };
        Expect("an RNN has hidden rows, an LSTM 4 x hidden, a GRU 3 x hidden", oddRows, []);
        using var projected = RnnModel.Create(new RnnConfig(3, 4, 1, Cell: CellKind.Lstm, ProjSize: 2), acc);
        var badProjection = new Dictionary<string, Tensor>(projected.StateDict()) { ["rnn.weight_hr_l0"] = Tensor.Zeros(2, 5) };
        Expect("has 16 rows, but an LSTM with 'rnn.weight_hr_l0' [2, 5] has 4 x 5", badProjection, []);
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
