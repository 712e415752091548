using RnnGpu.Accelerators;
using RnnGpu.IO;
using RnnGpu.Model;
using RnnGpu.Tasks;
using RnnGpu.Tests.IO;
using RnnGpu.Tests.Model;
using RnnGpu.Tests.Support;
using RnnGpu.Training;

namespace RnnGpu.Tests.Tasks;

public sealed class Seq2SeqTests
{
    public static TheoryData<string> Backends => TestBackends.Names;

    /// <summary>Encoder, decoder, batch, input steps, decoder steps, input lengths, decoder lengths, loss.</summary>
    private static readonly Dictionary<string, (RnnConfig Encoder, RnnConfig Decoder, int Batch, int Time, int DecoderTime, int[]? Lengths, int[]? DecoderLengths, LossKind Loss)> Cases = new()
    {
        ["1 layer, mse"] = (new RnnConfig(3, 4), new RnnConfig(2, 4, 1, Activation.Tanh, 2), 2, 5, 4, null, null, LossKind.Mse),
        ["2 layers relu, lengths, ce"] = (new RnnConfig(3, 5, 2, Activation.Relu), new RnnConfig(4, 5, 2, Activation.Relu, 4), 3, 4, 5, [4, 1, 3], [2, 5, 3], LossKind.CrossEntropy),
        ["bidirectional encoder into 2 layers, lengths, bce"] = (new RnnConfig(2, 3, 1, Activation.Tanh, Bidirectional: true), new RnnConfig(3, 3, 2, Activation.Tanh, 2), 3, 5, 3, [5, 2, 4], [3, 1, 2], LossKind.BinaryCrossEntropy),
        ["dropout 2 layers, lengths, mse"] = (new RnnConfig(2, 4, 2, Dropout: 0.3f), new RnnConfig(3, 4, 2, Activation.Tanh, 2, Dropout: 0.5f), 2, 4, 3, [2, 4], [3, 2], LossKind.Mse),
        ["lstm: bidirectional encoder with a projection into 2 layers, lengths, ce"] = (new RnnConfig(2, 5, 1, Bidirectional: true, Cell: CellKind.Lstm, ProjSize: 3),
            new RnnConfig(3, 5, 2, OutputSize: 3, Cell: CellKind.Lstm, ProjSize: 3), 3, 4, 3, [4, 2, 3], [3, 1, 2], LossKind.CrossEntropy),
        ["gru: dropout 2 layers, lengths, mse"] = (new RnnConfig(2, 4, 2, Dropout: 0.3f, Cell: CellKind.Gru),
            new RnnConfig(3, 4, 2, OutputSize: 2, Dropout: 0.5f, Cell: CellKind.Gru), 2, 4, 3, [2, 4], [3, 2], LossKind.Mse),
    };

    public static IEnumerable<object[]> GradientCases() =>
        from backend in TestBackends.Names from name in Cases.Keys select new object[] { backend, name };

    /// <summary>
    /// Gradients of both models, of the input and of the decoder input against central finite differences of
    /// an independent float64 pair: the reference encoder's final state starts the reference decoder, whose
    /// loss is differentiated. So the encoder's gradients check what flows back through the decoder's h0.
    /// </summary>
    [Theory]
    [MemberData(nameof(GradientCases))]
    public void Gradients_through_the_handover_match_finite_differences(string backend, string name)
    {
        var (ec, dc, batch, time, decoderTime, lengths, decoderLengths, loss) = Cases[name];
        using var acc = TestBackends.Open(backend);
        using var model = Seq2SeqModel.Create(ec, dc, acc, seed: 5);
        var rng = new Random(3);
        var x = new Tensor(Numerics.Random(rng, batch * time * ec.InputSize), batch, time, ec.InputSize);
        var d = new Tensor(Numerics.Random(rng, batch * decoderTime * dc.InputSize), batch, decoderTime, dc.InputSize);
        var target = GradientCheckTests.MakeTarget(rng, loss, batch, decoderTime, dc.OutputWidth);

        const int encoderSeed = 21, decoderSeed = 22;
        Seq2SeqGradients Gradients() => model.ComputeGradients(x, d, target, loss, lengths, decoderLengths,
            ec.Dropout > 0 ? new DropoutMasks(ec.Dropout, encoderSeed) : null, dc.Dropout > 0 ? new DropoutMasks(dc.Dropout, decoderSeed) : null);
        Gradients();
        var result = Gradients();   // the second call, on workspaces the first one left behind

        var encoderMasks = Masks(ec, encoderSeed, StepLayout.ForLengths(batch, time, lengths));
        var decoderMasks = Masks(dc, decoderSeed, StepLayout.ForLengths(batch, decoderTime, decoderLengths));
        var encoder = ReferenceRnn.FromModel(model.Encoder);
        var decoder = ReferenceRnn.FromModel(model.Decoder);
        double[] xd = Numerics.ToDouble(x), dd = Numerics.ToDouble(d), td = Numerics.ToDouble(target);
        var zeros = new double[ec.NumLayers * ec.Directions * batch * ec.StateSize];
        double Loss()
        {
            var (_, final, finalCell) = encoder.Run(xd, zeros, null, batch, time, lengths, encoderMasks);
            return decoder.Loss(dd, final, td, loss, batch, decoderTime, decoderLengths, decoderMasks, ec.HasCellState ? finalCell : null);
        }
        double expected = Loss();
        Assert.InRange(result.Loss, expected - 1e-5 * Math.Abs(expected) - 1e-7, expected + 1e-5 * Math.Abs(expected) + 1e-7);

        foreach (var (param, values) in encoder.Parameters)
            Numerics.AssertClose(Numerics.FiniteDifferences(values, Loss), result.Encoder[param].Data, 1e-3, 2e-5, $"encoder d{param}");
        foreach (var (param, values) in decoder.Parameters)
            Numerics.AssertClose(Numerics.FiniteDifferences(values, Loss), result.Decoder[param].Data, 1e-3, 2e-5, $"decoder d{param}");
        Numerics.AssertClose(Numerics.FiniteDifferences(xd, Loss), result.Input.Data, 1e-3, 2e-5, "dInput");
        Numerics.AssertClose(Numerics.FiniteDifferences(dd, Loss), result.DecoderInput.Data, 1e-3, 2e-5, "dDecoderInput");
        Assert.Contains(result.Encoder.Values, g => g.Data.Any(v => v != 0));   // the handover carries a gradient
    }

    /// <summary>The masks a DropoutMasks of this seed draws, in the order the engine asks (layer by layer, forward direction first), unpacked to [B, T, H].</summary>
    private static Func<int, int, float[]>? Masks(RnnConfig config, int seed, StepLayout layout)
    {
        if (config.Dropout == 0) return null;
        var source = new DropoutMasks(config.Dropout, seed);
        var drawn = new Dictionary<(int, int), float[]>();
        for (int l = 0; l < config.NumLayers - 1; l++)
        for (int d = 0; d < config.Directions; d++)
            drawn[(l, d)] = layout.Unpack(source.Next(layout.Rows * config.StateSize), config.StateSize);
        return (l, d) => drawn[(l, d)];
    }


    [Theory]
    [MemberData(nameof(Backends))]
    public void Forward_and_generation_start_the_decoder_from_the_encoders_final_state(string backend)
    {
        using var acc = TestBackends.Open(backend);
        using var model = Seq2SeqModel.Create(new RnnConfig(3, 5, 1, Bidirectional: true), new RnnConfig(4, 5, 2, Activation.Tanh, 4), acc, seed: 2,
            FeedbackKind.ArgmaxOneHot);
        var rng = new Random(4);
        var x = new Tensor(Numerics.Random(rng, 3 * 6 * 3), 3, 6, 3);
        var d = new Tensor(Numerics.Random(rng, 3 * 2 * 4), 3, 2, 4);
        int[] lengths = [6, 3, 1];
        var h = model.Encoder.Forward(x, null, lengths).FinalState;
        Assert.Equal(h.Data, model.Encode(x, lengths).Data);
        var expected = model.Decoder.Forward(d, h);
        var actual = model.Forward(x, d, lengths);
        Assert.Equal(expected.Output.Data, actual.Output.Data);
        Assert.Equal(expected.FinalState.Data, actual.FinalState.Data);

        var generated = model.Generate(x, 4, lengths);   // the model's argmax feedback, from a zero start step
        var byHand = new Generator(model.Decoder).Generate(Tensor.Zeros(3, 4), 4, h, Feedback.ArgmaxOneHot);
        Assert.Equal(byHand.Output.Data, generated.Output.Data);
        Assert.Equal(byHand.FedBack.Data, generated.FedBack.Data);
        var start = new Tensor([0, 1, 0, 0], 4);
        Assert.Equal(new Generator(model.Decoder).Generate(new Tensor([0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0], 3, 4), 2, h, Feedback.Identity).Output.Data,
            model.Generate(x, 2, lengths, start, Feedback.Identity).Output.Data);
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public void A_training_step_clips_both_models_by_their_joint_norm_and_updates_each(string backend)
    {
        using var acc = TestBackends.Open(backend);
        var (ec, dc) = (new RnnConfig(3, 4, 1), new RnnConfig(2, 4, 1, Activation.Tanh, 2));
        using var model = Seq2SeqModel.Create(ec, dc, acc, seed: 8);
        var rng = new Random(6);
        var x = new Tensor(Numerics.Random(rng, 2 * 3 * 3, 2f), 2, 3, 3);
        var y = new Tensor(Numerics.Random(rng, 2 * 4 * 2, 3f), 2, 4, 2);
        var d = TeacherForcing.ShiftRight(y, 2);
        var before = (model.Encoder.StateDict(), model.Decoder.StateDict());
        var g = model.ComputeGradients(x, d, y, LossKind.Mse);
        double norm = Math.Sqrt(g.Encoder.Values.Concat(g.Decoder.Values).Sum(t => t.Data.Sum(v => (double)v * v)));
        float clip = (float)(norm / 4);   // a clip that bites

        using var encoderSgd = new Sgd(0.1f);
        using var decoderSgd = new Sgd(0.1f);
        var trainer = new Seq2SeqTrainer(model, encoderSgd, decoderSgd, LossKind.Mse, clip);
        var step = trainer.Step(x, y);   // decoder inputs: y shifted right, as d
        Assert.Equal(g.Loss, step.Loss, 6);
        Assert.Equal(norm, step.GradientNorm, norm * 1e-5);
        double coef = clip / (norm + 1e-6);
        foreach (var (part, old, grads) in new[] { (model.Encoder, before.Item1, g.Encoder), (model.Decoder, before.Item2, g.Decoder) })
        foreach (var (name, value) in old)
        {
            var expected = value.Data.Select((p, i) => (float)(p - 0.1 * coef * grads[name].Data[i])).ToArray();
            Numerics.AssertClose(expected, part.GetParameter(name).Data, 1e-5, 1e-6, name);
        }
        using var shared = new Sgd(0.1f);
        Assert.Contains("an optimizer each", Assert.Throws<ShapeException>(() => new Seq2SeqTrainer(model, shared, shared, LossKind.Mse)).Message);
    }

    [Fact]
    public void Pairs_that_cannot_hand_over_a_state_are_refused_with_the_reason()
    {
        var decoder = new RnnConfig(2, 4, 1, Activation.Tanh, 2);
        Assert.Contains("output size 0", Assert.Throws<ShapeException>(() => Seq2SeqModel.Validate(new RnnConfig(3, 4, 1, Activation.Tanh, 2), decoder)).Message);
        Assert.Contains("cannot be bidirectional", Assert.Throws<ShapeException>(() => Seq2SeqModel.Validate(new RnnConfig(3, 4), decoder with { Bidirectional = true })).Message);
        Assert.Contains("EveryStep", Assert.Throws<ShapeException>(() => Seq2SeqModel.Validate(new RnnConfig(3, 4), decoder with { HeadInput = HeadInput.FinalState })).Message);
        var e = Assert.Throws<ShapeException>(() => Seq2SeqModel.Validate(new RnnConfig(3, 4, 2), decoder));
        Assert.Contains("[2, batch, 4]", e.Message);
        Assert.Contains("[1, batch, 4]", e.Message);
        Assert.Contains("hidden size", Assert.Throws<ShapeException>(() => Seq2SeqModel.Validate(new RnnConfig(3, 5), decoder)).Message);
        Assert.Contains("[2, batch, 4]", Assert.Throws<ShapeException>(() => Seq2SeqModel.Validate(new RnnConfig(3, 4, Bidirectional: true), decoder)).Message);
        Seq2SeqModel.Validate(new RnnConfig(3, 4, Bidirectional: true), decoder with { NumLayers = 2 });   // 1 x 2 directions = 2 layers
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public void Mismatched_batches_are_refused_before_any_work(string backend)
    {
        using var acc = TestBackends.Open(backend);
        using var model = Seq2SeqModel.Create(new RnnConfig(3, 4), new RnnConfig(2, 4, 1, Activation.Tanh, 2), acc);
        Assert.Contains("each input sequence", Assert.Throws<ShapeException>(() => model.Forward(Tensor.Zeros(2, 3, 3), Tensor.Zeros(3, 2, 2))).Message);
        Assert.Contains("targets have shape", Assert.Throws<ShapeException>(() =>
            model.ComputeGradients(Tensor.Zeros(2, 3, 3), Tensor.Zeros(2, 2, 2), Tensor.Zeros(2, 3, 2), LossKind.Mse)).Message);
        Assert.Contains("outside [1, 3]", Assert.Throws<ShapeException>(() =>
            model.ComputeGradients(Tensor.Zeros(2, 3, 3), Tensor.Zeros(2, 2, 2), Tensor.Zeros(2, 2, 2), LossKind.Mse, lengths: [4, 1])).Message);
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public void A_checkpoint_holds_both_models_under_prefixes_and_loads_back(string backend)
    {
        using var dir = new TempDirectory();
        string path = dir.File("pair.safetensors");
        using var acc = TestBackends.Open(backend);
        using (var model = Seq2SeqModel.Create(new RnnConfig(3, 4, 1, Activation.Relu, Bidirectional: true, Dropout: 0.25f),
                   new RnnConfig(5, 4, 2, Activation.Relu, 5), acc, seed: 3, FeedbackKind.ArgmaxOneHot))
        {
            model.Decoder.Vocabulary = "abcde";
            Seq2SeqCheckpoint.Save(model, path);
            using var loaded = Seq2SeqCheckpoint.Load(path, acc);
            Assert.Equal(model.Encoder.Config, loaded.Encoder.Config);
            Assert.Equal(model.Decoder.Config, loaded.Decoder.Config);
            Assert.Equal(FeedbackKind.ArgmaxOneHot, loaded.FeedbackKind);
            Assert.Equal("abcde", loaded.Decoder.Vocabulary);
            Assert.Null(loaded.Encoder.Vocabulary);
            foreach (var (name, value) in model.Encoder.StateDict()) Assert.Equal(value.Data, loaded.Encoder.GetParameter(name).Data);
            foreach (var (name, value) in model.Decoder.StateDict()) Assert.Equal(value.Data, loaded.Decoder.GetParameter(name).Data);
        }
        var file = SafetensorsFile.Read(path);
        Assert.True(Seq2SeqCheckpoint.IsSeq2Seq(file));
        Assert.Contains("encoder.rnn.weight_hh_l0_reverse", file.Tensors.Keys);
        Assert.Contains("decoder.head.bias", file.Tensors.Keys);
        Assert.Equal("1", file.Metadata["encoder.bidirectional"]);
        Assert.Equal("argmax", file.Metadata["feedback"]);

        // A single model is not a pair, and a pair is not a single model: each says which loader to use.
        Assert.Contains("Seq2SeqCheckpoint.Load", Assert.Throws<FileFormatException>(() => Checkpoint.Load(path, acc)).Message);
        using (var single = RnnModel.Create(new RnnConfig(2, 3), acc)) Checkpoint.Save(single, dir.File("single.safetensors"));
        Assert.Contains("Checkpoint.Load", Assert.Throws<FileFormatException>(() => Seq2SeqCheckpoint.Load(dir.File("single.safetensors"), acc)).Message);

        // Damaged pairs name the file and the problem.
        var tensors = file.Tensors.ToDictionary(kv => kv.Key, kv => kv.Value);
        var metadata = file.Metadata.ToDictionary(kv => kv.Key, kv => kv.Value);
        void Fails(string fragment, IReadOnlyDictionary<string, Tensor> t, IReadOnlyDictionary<string, string> m)
        {
            SafetensorsFile.Write(dir.File("bad.safetensors"), t, m);
            var e = Assert.Throws<FileFormatException>(() => Seq2SeqCheckpoint.Load(dir.File("bad.safetensors"), acc));
            Assert.Contains("bad.safetensors", e.Message);
            Assert.Contains(fragment, e.Message);
        }
        Fails("'stray'", new Dictionary<string, Tensor>(tensors) { ["stray"] = Tensor.Zeros(1) }, metadata);
        Fails("the decoder is missing", tensors.Where(kv => !kv.Key.StartsWith("decoder.")).ToDictionary(), metadata);
        Fails("(decoder): metadata 'output_size' says 5 but the tensors say 0", tensors.Where(kv => kv.Key != "decoder.head.weight").ToDictionary(), metadata);
        Fails("feedback", tensors, new Dictionary<string, string>(metadata) { ["feedback"] = "telepathy" });
        Fails("cannot start the decoder", tensors.Where(kv => !kv.Key.StartsWith("decoder.rnn.") || !kv.Key.EndsWith("_l1")).ToDictionary(),
            new Dictionary<string, string>(metadata) { ["decoder.num_layers"] = "1" });
        Fails("'bidirectional' says 0", tensors, new Dictionary<string, string>(metadata) { ["encoder.bidirectional"] = "0" });
    }
}
