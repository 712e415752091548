using RnnGpu.Accelerators;
using RnnGpu.Accelerators.Cpu;
using RnnGpu.IO;
using RnnGpu.Model;
using RnnGpu.Tasks;
using RnnGpu.Tests.Support;
using RnnGpu.Training;
using Xunit;

namespace RnnGpu.Tests.Cli;

/// <summary>
/// `rnngpu train` and `rnngpu run` with the sequence features: --lengths, --bidirectional, --dropout and
/// --task many-to-one | one-to-many | encoder-decoder. Each trained checkpoint is compared with what the
/// library computes for the same options, so the command adds nothing of its own.
/// </summary>
public sealed class SequenceFeatureCliTests : IDisposable
{
    private readonly CliHarness _cli = new();
    private readonly CpuAccelerator _cpu = new();

    public void Dispose()
    {
        _cpu.Dispose();
        _cli.Dispose();
    }

    private const int Batch = SequenceData.Batch, Time = SequenceData.Time;
    private static readonly int[] Lengths = [5, 2, 4, 1, 5, 3];

    private string WriteLengths(string name, int[] lengths) => _cli.WriteNpy(name, NpyArray.FromInt64(lengths.Select(v => (long)v).ToArray(), lengths.Length));

    private static void AssertSameParameters(RnnModel expected, RnnModel actual)
    {
        Assert.Equal(expected.Config, actual.Config);
        foreach (var p in expected.Layout.Parameters)
            Assert.Equal(expected.GetParameter(p.Name).Data, actual.GetParameter(p.Name).Data);
    }

    [Fact]
    public void Lengths_train_on_the_real_steps_only_as_the_library_does()
    {
        var (x, y) = SequenceData.WriteRegression(_cli);
        string lengths = WriteLengths("l.npy", Lengths);
        string model = _cli.File("m.safetensors");
        var r = _cli.Ok("train", "--inputs", x, "--targets", y, "--lengths", lengths, "--hidden", "5", "--optimizer", "sgd", "--lr", "0.1",
            "--epochs", "2", "--seed", "3", "--save", model, "--backend", "cpu");
        Assert.Contains("lengths 1..5 (mean 3.3)", r.Out);

        using var expected = RnnModel.Create(new RnnConfig(3, 5, 1, Activation.Tanh, 2), _cpu, seed: 3);
        using var sgd = new Sgd(0.1f);
        var trainer = new Trainer(expected, sgd, LossKind.Mse);
        var (xs, ys) = (NpyArray.Read(x).ToTensor(), NpyArray.Read(y).ToTensor());
        trainer.Step(xs, ys, lengths: Lengths);
        trainer.Step(xs, ys, lengths: Lengths);
        using var actual = Checkpoint.Load(model, _cpu);
        AssertSameParameters(expected, actual);

        // Lengths as int32 or as whole floats are the same lengths.
        string l32 = _cli.WriteNpy("l32.npy", NpyArray.FromInt32(Lengths, Batch));
        string lf = _cli.WriteNpy("lf.npy", NpyArray.FromFloat64(Lengths.Select(v => (double)v).ToArray(), Batch));
        foreach (var (path, name) in new[] { (l32, "m32.safetensors"), (lf, "mf.safetensors") })
        {
            _cli.Ok("train", "--inputs", x, "--targets", y, "--lengths", path, "--hidden", "5", "--optimizer", "sgd", "--lr", "0.1",
                "--epochs", "2", "--seed", "3", "--save", _cli.File(name), "--backend", "cpu");
            Assert.Equal(File.ReadAllBytes(model), File.ReadAllBytes(_cli.File(name)));
        }
    }

    [Fact]
    public void Run_with_lengths_pads_with_zeros_and_keeps_each_sequences_own_final_state()
    {
        var (x, y) = SequenceData.WriteRegression(_cli);
        string model = _cli.File("m.safetensors"), outY = _cli.File("y.npy"), outH = _cli.File("h.npy");
        _cli.Ok("train", "--inputs", x, "--targets", y, "--hidden", "4", "--layers", "2", "--bidirectional", "--epochs", "2", "--save", model, "--backend", "cpu");
        _cli.Ok("run", "--model", model, "--inputs", x, "--lengths", WriteLengths("l.npy", Lengths), "--output", outY, "--state-output", outH, "--backend", "cpu");

        using var rnn = Checkpoint.Load(model, _cpu);
        var expected = rnn.Forward(NpyArray.Read(x).ToTensor(), null, Lengths);
        var output = NpyArray.Read(outY).ToFloat32();
        Assert.Equal(expected.Output.Data, output);
        Assert.Equal(expected.FinalState.Data, NpyArray.Read(outH).ToFloat32());
        Assert.Equal([4, Batch, 4], NpyArray.Read(outH).Shape);   // 2 layers x 2 directions
        Assert.All(Enumerable.Range(0, 2 * 3), k => Assert.Equal(0f, output[(3 * Time + 1) * 2 + k]));   // sequence 3 has one step
    }

    [Fact]
    public void Lengths_that_do_not_fit_are_errors_naming_the_file()
    {
        var (x, y) = SequenceData.WriteRegression(_cli);
        string model = _cli.File("m.safetensors");
        _cli.Ok("train", "--inputs", x, "--targets", y, "--hidden", "4", "--epochs", "1", "--save", model, "--backend", "cpu");
        var cases = new (string Name, NpyArray Array, string[] Fragments)[]
        {
            ("zero.npy", NpyArray.FromInt64([5, 0, 4, 1, 5, 3], Batch), ["zero.npy", "length 0 of sequence 1", "[1, 5]"]),
            ("long.npy", NpyArray.FromInt32([5, 6, 4, 1, 5, 3], Batch), ["long.npy", "length 6 of sequence 1", "5 time steps"]),
            ("few.npy", NpyArray.FromInt64([5, 2, 4], 3), ["few.npy", "3 lengths", "6 sequences"]),
            ("matrix.npy", NpyArray.FromInt64(new long[Batch], Batch, 1), ["matrix.npy", "1 dimension"]),
            ("half.npy", NpyArray.FromFloat32([5, 2.5f, 4, 1, 5, 3], Batch), ["half.npy", "2.5", "whole number"]),
        };
        foreach (var (name, array, fragments) in cases)
        {
            string path = _cli.WriteNpy(name, array);
            Assert.Equal(1, _cli.Fails(["train", "--inputs", x, "--targets", y, "--lengths", path, "--save", _cli.File("n.safetensors"), "--backend", "cpu"], fragments).ExitCode);
            Assert.Equal(1, _cli.Fails(["run", "--model", model, "--inputs", x, "--lengths", path, "--output", _cli.File("o.npy"), "--backend", "cpu"], fragments).ExitCode);
        }
        _cli.Fails(["run", "--model", model, "--inputs", x, "--lengths", _cli.File("none.npy"), "--output", _cli.File("o.npy")], "none.npy");
    }

    [Fact]
    public void Bidirectional_layers_with_dropout_train_reproducibly_as_the_library_does()
    {
        var (x, y) = SequenceData.WriteRegression(_cli);
        string a = _cli.File("a.safetensors"), b = _cli.File("b.safetensors");
        string[] args = ["train", "--inputs", x, "--targets", y, "--hidden", "4", "--layers", "2", "--bidirectional", "--dropout", "0.3",
            "--optimizer", "sgd", "--lr", "0.1", "--epochs", "2", "--seed", "5", "--backend", "cpu"];
        var r = _cli.Ok([.. args, "--save", a]);
        _cli.Ok([.. args, "--save", b]);
        Assert.Contains("bidirectional, dropout 0.3, head 8->2", r.Out);
        Assert.Equal(File.ReadAllBytes(a), File.ReadAllBytes(b));

        var config = new RnnConfig(3, 4, 2, Activation.Tanh, 2, Bidirectional: true, Dropout: 0.3f);
        using var expected = RnnModel.Create(config, _cpu, seed: 5);
        using var sgd = new Sgd(0.1f);
        var trainer = new Trainer(expected, sgd, LossKind.Mse, seed: 5);
        var (xs, ys) = (NpyArray.Read(x).ToTensor(), NpyArray.Read(y).ToTensor());
        trainer.Step(xs, ys);
        trainer.Step(xs, ys);
        using var actual = Checkpoint.Load(a, _cpu);
        AssertSameParameters(expected, actual);

        // A single layer has nowhere to apply dropout: PyTorch's placement; the command says so.
        var single = _cli.Ok("train", "--inputs", x, "--targets", y, "--hidden", "4", "--dropout", "0.5", "--epochs", "1", "--save", _cli.File("c.safetensors"), "--backend", "cpu");
        Assert.Contains("with 1 layer it does nothing", single.Err);
    }

    [Fact]
    public void Many_to_one_trains_on_one_target_per_sequence_and_runs_to_one_output_each()
    {
        var xData = SequenceData.Inputs();
        string x = _cli.WriteNpy("x.npy", NpyArray.FromFloat32(xData, Batch, Time, 3));
        string ids = _cli.WriteNpy("ids.npy", NpyArray.FromInt64([0, 2, 1, 2, 0, 1], Batch));
        string lengths = WriteLengths("l.npy", Lengths);
        string model = _cli.File("m.safetensors");
        var r = _cli.Ok("train", "--task", "many-to-one", "--inputs", x, "--targets", ids, "--loss", "ce", "--lengths", lengths, "--hidden", "6",
            "--optimizer", "sgd", "--lr", "0.2", "--epochs", "3", "--seed", "2", "--save", model, "--backend", "cpu");
        Assert.Contains("3 classes per sequence", r.Out);
        Assert.Contains("head 6->3 on the final state", r.Out);

        using var expected = RnnModel.Create(new RnnConfig(3, 6, 1, Activation.Tanh, 3, HeadInput: HeadInput.FinalState), _cpu, seed: 2);
        using var sgd = new Sgd(0.2f);
        var trainer = new Trainer(expected, sgd, LossKind.CrossEntropy);
        var (xs, ys) = (NpyArray.Read(x).ToTensor(), new Tensor([0, 2, 1, 2, 0, 1], Batch));
        for (int i = 0; i < 3; i++) trainer.Step(xs, ys, lengths: Lengths);
        using var actual = Checkpoint.Load(model, _cpu);
        AssertSameParameters(expected, actual);

        string outY = _cli.File("y.npy");
        _cli.Ok("run", "--model", model, "--inputs", x, "--lengths", lengths, "--output", outY, "--backend", "cpu");
        var y = NpyArray.Read(outY);
        Assert.Equal([Batch, 3], y.Shape);
        Assert.Equal(actual.Forward(xs, null, Lengths).Output.Data, y.ToFloat32());

        // Regression targets [batch, output]; and what does not fit the task.
        string rows = _cli.WriteNpy("rows.npy", NpyArray.FromFloat32(new float[Batch * 2], Batch, 2));
        _cli.Ok("train", "--task", "many-to-one", "--inputs", x, "--targets", rows, "--hidden", "3", "--epochs", "1", "--save", _cli.File("r.safetensors"), "--backend", "cpu");
        string perStep = _cli.WriteNpy("steps.npy", NpyArray.FromFloat32(new float[Batch * Time * 2], Batch, Time, 2));
        _cli.Fails(["train", "--task", "many-to-one", "--inputs", x, "--targets", perStep, "--save", _cli.File("n.safetensors")], "steps.npy", "[batch, output]");
        _cli.Fails(["train", "--task", "many-to-one", "--inputs", x, "--targets", rows, "--loss", "ce", "--save", _cli.File("n.safetensors")], "rows.npy", "[batch]");
        _cli.Fails(["train", "--inputs", x, "--targets", perStep, "--init", model, "--save", _cli.File("n.safetensors")], "many-to-one", "--task many-to-one");
    }

    [Fact]
    public void One_to_many_trains_a_generator_on_shifted_targets_and_run_generates()
    {
        var rng = new Random(4);
        var starts = new Tensor(Numerics.Random(rng, Batch * 2), Batch, 2);
        var targets = new Tensor(Numerics.Random(rng, Batch * Time * 2), Batch, Time, 2);
        string x = _cli.WriteNpy("starts.npy", NpyArray.FromTensor(starts));
        string y = _cli.WriteNpy("y.npy", NpyArray.FromTensor(targets));
        string model = _cli.File("m.safetensors");
        var r = _cli.Ok("train", "--task", "one-to-many", "--inputs", x, "--targets", y, "--hidden", "5", "--layers", "2",
            "--optimizer", "sgd", "--lr", "0.1", "--epochs", "2", "--seed", "1", "--save", model, "--backend", "cpu");
        Assert.Contains("5 generated steps from start steps of 2 inputs", r.Out);

        using var expected = RnnModel.Create(new RnnConfig(2, 5, 2, Activation.Tanh, 2), _cpu, seed: 1);
        using var sgd = new Sgd(0.1f);
        var trainer = new Trainer(expected, sgd, LossKind.Mse);
        var inputs = TeacherForcing.ShiftRight(targets, 2, starts);
        trainer.Step(inputs, targets);
        trainer.Step(inputs, targets);
        using var actual = Checkpoint.Load(model, _cpu);
        AssertSameParameters(expected, actual);

        string outY = _cli.File("gen.npy"), outH = _cli.File("h.npy");
        _cli.Ok("run", "--model", model, "--inputs", x, "--generate", "7", "--output", outY, "--state-output", outH, "--backend", "cpu");
        var generated = new Generator(actual).Generate(starts, 7);
        Assert.Equal([Batch, 7, 2], NpyArray.Read(outY).Shape);
        Assert.Equal(generated.Output.Data, NpyArray.Read(outY).ToFloat32());
        Assert.Equal(generated.FinalState.Data, NpyArray.Read(outH).ToFloat32());

        // Class ids: fed back one-hot in training, and by --feedback argmax when generating.
        string ids = _cli.WriteNpy("ids.npy", NpyArray.FromInt64(Enumerable.Range(0, Batch * Time).Select(k => (long)(k % 3)).ToArray(), Batch, Time));
        string oneHot = _cli.WriteNpy("onehot.npy", NpyArray.FromFloat32(Enumerable.Range(0, Batch * 3).Select(k => k % 3 == 0 ? 1f : 0f).ToArray(), Batch, 3));
        string classes = _cli.File("c.safetensors");
        _cli.Ok("train", "--task", "one-to-many", "--inputs", oneHot, "--targets", ids, "--loss", "ce", "--hidden", "8", "--epochs", "40", "--lr", "0.05", "--save", classes, "--backend", "cpu");
        _cli.Ok("run", "--model", classes, "--inputs", oneHot, "--generate", "6", "--feedback", "argmax", "--output", outY, "--backend", "cpu");
        using var classModel = Checkpoint.Load(classes, _cpu);
        Assert.Equal(new Generator(classModel).Generate(NpyArray.Read(oneHot).ToTensor(), 6, feedback: Feedback.ArgmaxOneHot).Output.Data, NpyArray.Read(outY).ToFloat32());

        _cli.Fails(["train", "--task", "one-to-many", "--inputs", x, "--targets", ids, "--loss", "ce", "--save", _cli.File("n.safetensors")], "ids.npy", "class id 2", "2 wide");
        string wide = _cli.WriteNpy("wide.npy", NpyArray.FromFloat32(new float[Batch * Time * 3], Batch, Time, 3));
        _cli.Fails(["train", "--task", "one-to-many", "--inputs", x, "--targets", wide, "--save", _cli.File("n.safetensors")], "wide.npy", "3 features", "have 2");
        _cli.Fails(["train", "--task", "one-to-many", "--inputs", y, "--targets", y, "--save", _cli.File("n.safetensors")], "y.npy", "2 dimensions [batch, features]");
    }

    [Fact]
    public void Encoder_decoder_trains_both_models_as_the_library_does_and_run_decodes()
    {
        var rng = new Random(8);
        var xs = new Tensor(Numerics.Random(rng, Batch * Time * 3), Batch, Time, 3);
        var ids = new Tensor(Enumerable.Range(0, Batch * 4).Select(_ => (float)rng.Next(4)).ToArray(), Batch, 4);
        string x = _cli.WriteNpy("x.npy", NpyArray.FromTensor(xs));
        string y = _cli.WriteNpy("y.npy", NpyArray.FromInt64(ids.Data.Select(v => (long)v).ToArray(), Batch, 4));
        string lengths = WriteLengths("l.npy", Lengths);
        int[] targetLengthValues = [4, 1, 2, 3, 4, 2];
        string targetLengths = WriteLengths("tl.npy", targetLengthValues);
        string model = _cli.File("pair.safetensors");
        var r = _cli.Ok("train", "--task", "encoder-decoder", "--inputs", x, "--targets", y, "--loss", "ce", "--lengths", lengths, "--target-lengths", targetLengths,
            "--hidden", "6", "--layers", "2", "--optimizer", "sgd", "--lr", "0.1", "--clip", "0.5", "--epochs", "2", "--seed", "4", "--save", model, "--backend", "cpu");
        Assert.Contains("4 decoder steps of 4 classes", r.Out);
        Assert.Contains("feedback argmax", r.Out);

        using var expected = Seq2SeqModel.Create(new RnnConfig(3, 6, 2), new RnnConfig(4, 6, 2, Activation.Tanh, 4), _cpu, seed: 4);
        using var encoderSgd = new Sgd(0.1f);
        using var decoderSgd = new Sgd(0.1f);
        var trainer = new Seq2SeqTrainer(expected, encoderSgd, decoderSgd, LossKind.CrossEntropy, clipNorm: 0.5f, seed: 4);
        trainer.Step(xs, ids, lengths: Lengths, targetLengths: targetLengthValues);
        trainer.Step(xs, ids, lengths: Lengths, targetLengths: targetLengthValues);
        using var actual = Seq2SeqCheckpoint.Load(model, _cpu);
        AssertSameParameters(expected.Encoder, actual.Encoder);
        AssertSameParameters(expected.Decoder, actual.Decoder);
        Assert.Equal(FeedbackKind.ArgmaxOneHot, actual.FeedbackKind);

        // Greedy decoding, and teacher-forced decoding over given decoder inputs.
        string outY = _cli.File("out.npy"), outH = _cli.File("h.npy");
        _cli.Ok("run", "--model", model, "--inputs", x, "--lengths", lengths, "--generate", "5", "--output", outY, "--state-output", outH, "--backend", "cpu");
        var generated = actual.Generate(xs, 5, Lengths);
        Assert.Equal(generated.Output.Data, NpyArray.Read(outY).ToFloat32());
        Assert.Equal(generated.FinalState.Data, NpyArray.Read(outH).ToFloat32());
        var d = TeacherForcing.ShiftRight(ids, 4);
        string dPath = _cli.WriteNpy("d.npy", NpyArray.FromTensor(d));
        _cli.Ok("run", "--model", model, "--inputs", x, "--decoder-inputs", dPath, "--output", outY, "--backend", "cpu");
        Assert.Equal(actual.Forward(xs, d).Output.Data, NpyArray.Read(outY).ToFloat32());

        // --decoder-inputs given explicitly train the same as the shifted targets; --init continues the pair.
        string again = _cli.File("again.safetensors");
        _cli.Ok("train", "--task", "encoder-decoder", "--inputs", x, "--targets", y, "--loss", "ce", "--lengths", lengths, "--target-lengths", targetLengths,
            "--decoder-inputs", _cli.WriteNpy("d0.npy", NpyArray.FromTensor(TeacherForcing.ShiftRight(ids, 4, lengths: targetLengthValues))),
            "--hidden", "6", "--layers", "2", "--optimizer", "sgd", "--lr", "0.1", "--clip", "0.5", "--epochs", "2", "--seed", "4", "--save", again, "--backend", "cpu");
        Assert.Equal(File.ReadAllBytes(model), File.ReadAllBytes(again));
        var more = _cli.Ok("train", "--task", "encoder-decoder", "--inputs", x, "--targets", y, "--loss", "ce", "--init", model, "--epochs", "1", "--save", again, "--backend", "cpu");
        Assert.Contains($"from {model}", more.Out);
        _cli.Fails(["train", "--task", "encoder-decoder", "--inputs", x, "--targets", y, "--loss", "ce", "--init", model, "--hidden", "7", "--save", again], "--hidden 7");
        string y5 = _cli.WriteNpy("y5.npy", NpyArray.FromInt64(new long[Batch * Time], Batch, Time));
        _cli.Fails(["train", "--inputs", x, "--targets", y5, "--loss", "ce", "--init", model, "--save", again], "encoder-decoder checkpoint", "--task encoder-decoder");

        // What the pair cannot run.
        _cli.Fails(["run", "--model", model, "--inputs", x, "--output", outY], "--generate N", "--decoder-inputs");
        _cli.Fails(["run", "--model", model, "--inputs", x, "--generate", "2", "--initial-state", outH, "--output", outY], "--initial-state", "encoder's final state");
        string x4 = _cli.WriteNpy("x4.npy", NpyArray.FromFloat32(new float[2 * 3 * 4], 2, 3, 4));
        _cli.Fails(["run", "--model", model, "--inputs", x4, "--generate", "2", "--output", outY], "x4.npy", "4 input features", "encoder");
        _cli.Fails(["run", "--model", model, "--inputs", x, "--decoder-inputs", x, "--output", outY], "x.npy", "3 features", "takes 4");
    }

    [Fact]
    public void Bidirectional_encoders_hand_each_direction_to_a_decoder_layer()
    {
        var rng = new Random(2);
        string x = _cli.WriteNpy("x.npy", NpyArray.FromFloat32(Numerics.Random(rng, Batch * Time * 3), Batch, Time, 3));
        string y = _cli.WriteNpy("y.npy", NpyArray.FromFloat32(Numerics.Random(rng, Batch * 3 * 2), Batch, 3, 2));
        string model = _cli.File("pair.safetensors");
        var r = _cli.Ok("train", "--task", "encoder-decoder", "--inputs", x, "--targets", y, "--bidirectional", "--hidden", "4", "--epochs", "2", "--save", model, "--backend", "cpu");
        using var pair = Seq2SeqCheckpoint.Load(model, _cpu);
        Assert.True(pair.Encoder.Config.Bidirectional);
        Assert.Equal(2, pair.Decoder.Config.NumLayers);
        Assert.Equal(FeedbackKind.Identity, pair.FeedbackKind);
        Assert.Contains("feedback identity", r.Out);
    }

    [Fact]
    public void Options_that_do_not_fit_the_task_are_usage_errors()
    {
        var (x, y) = SequenceData.WriteRegression(_cli);
        string[] Train(params string[] more) => ["train", "--inputs", x, "--targets", y, .. more];
        Assert.Equal(2, _cli.Fails(Train("--task", "many-to-few"), "--task", "many-to-few", "encoder-decoder").ExitCode);
        Assert.Equal(2, _cli.Fails(Train("--target-lengths", x), "--target-lengths", "encoder-decoder").ExitCode);
        Assert.Equal(2, _cli.Fails(Train("--decoder-inputs", x), "--decoder-inputs", "encoder-decoder").ExitCode);
        Assert.Equal(2, _cli.Fails(Train("--task", "many-to-one", "--bptt", "2"), "--bptt", "many-to-one").ExitCode);
        Assert.Equal(2, _cli.Fails(Train("--task", "encoder-decoder", "--bptt", "2"), "--bptt", "encoder-decoder").ExitCode);
        Assert.Equal(2, _cli.Fails(Train("--bidirectional", "--bptt", "2"), "--bptt", "--bidirectional").ExitCode);
        Assert.Equal(2, _cli.Fails(Train("--task", "one-to-many", "--bidirectional"), "--bidirectional", "one-to-many").ExitCode);
        Assert.Equal(2, _cli.Fails(Train("--dropout", "1"), "--dropout", "[0, 1)").ExitCode);
        Assert.Equal(2, _cli.Fails(["train", "--bidirectional"], "--bidirectional", "numeric").ExitCode);
        Assert.Equal(2, _cli.Fails(["train", "--task", "many-to-one"], "--task", "numeric").ExitCode);
        Assert.Equal(2, _cli.Fails(["train", "--lengths", x], "--lengths", "numeric").ExitCode);

        string model = _cli.File("m.safetensors");
        _cli.Ok("train", "--inputs", x, "--targets", y, "--hidden", "4", "--bidirectional", "--epochs", "1", "--save", model, "--backend", "cpu");
        string[] Run(params string[] more) => ["run", "--model", model, "--inputs", x, "--output", _cli.File("o.npy"), .. more];
        Assert.Equal(2, _cli.Fails(Run("--generate", "2", "--decoder-inputs", x), "--generate", "--decoder-inputs").ExitCode);
        Assert.Equal(2, _cli.Fails(Run("--feedback", "argmax"), "--feedback", "--generate").ExitCode);
        Assert.Equal(2, _cli.Fails(Run("--generate", "0"), "--generate").ExitCode);
        Assert.Equal(2, _cli.Fails(Run("--decoder-inputs", x), "--decoder-inputs", "single model").ExitCode);
        Assert.Equal(1, _cli.Fails(Run("--generate", "2"), "bidirectional").ExitCode);
        _cli.Fails(["train", "--inputs", x, "--targets", y, "--init", model, "--dropout", "0.2", "--save", _cli.File("n.safetensors")], "--dropout 0.2", "dropout is 0");

        string forward = _cli.File("f.safetensors");
        _cli.Ok("train", "--inputs", x, "--targets", y, "--hidden", "4", "--epochs", "1", "--save", forward, "--backend", "cpu");
        _cli.Fails(["run", "--model", forward, "--inputs", x, "--generate", "2", "--output", _cli.File("o.npy")], "outputs 2", "takes 3 inputs", "--feedback argmax");
        _cli.Fails(["train", "--task", "encoder-decoder", "--inputs", x, "--targets", y, "--init", forward, "--save", _cli.File("n.safetensors")], "single-model checkpoint");
        _cli.Fails(["train", "--inputs", x, "--targets", y, "--init", forward, "--bidirectional", "--save", _cli.File("n.safetensors")], "--bidirectional", "forward only");
    }
}
