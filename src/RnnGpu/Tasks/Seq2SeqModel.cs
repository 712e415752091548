using RnnGpu.Accelerators;
using RnnGpu.Model;
using RnnGpu.Training;

namespace RnnGpu.Tasks;

/// <summary>
/// An encoder-decoder pair of recurrent networks of one cell: the encoder (no head) reads the input sequence, and its final
/// state (h, and an LSTM's c), every layer and direction, is the decoder's initial state. The decoder (unidirectional, usually
/// with a head) is trained with teacher forcing (<see cref="TeacherForcing.ShiftRight"/>) and generates
/// by feeding its outputs back (<see cref="Generate"/>). So the two must have the same number of state
/// groups (layers x directions) and the same hidden size: a 2-layer decoder may follow a 2-layer encoder,
/// or a 1-layer bidirectional one. Owns both models.
/// </summary>
public sealed class Seq2SeqModel : IDisposable
{
    public Seq2SeqModel(RnnModel encoder, RnnModel decoder, FeedbackKind feedback = FeedbackKind.Identity)
    {
        ArgumentNullException.ThrowIfNull(encoder);
        ArgumentNullException.ThrowIfNull(decoder);
        if (ReferenceEquals(encoder, decoder)) throw new ShapeException("the encoder and the decoder must be two models");
        Validate(encoder.Config, decoder.Config);
        if (encoder.Weights != decoder.Weights)
            throw new ShapeException($"the encoder's weights are {encoder.Weights.ToName()} and the decoder's {decoder.Weights.ToName()}: quantize both alike");
        Encoder = encoder;
        Decoder = decoder;
        FeedbackKind = feedback;
    }

    /// <summary>Both models initialized as PyTorch does, the encoder from <paramref name="seed"/>, the decoder from seed + 1.</summary>
    public static Seq2SeqModel Create(RnnConfig encoder, RnnConfig decoder, Accelerator accelerator, int seed = 0,
        FeedbackKind feedback = FeedbackKind.Identity)
    {
        ArgumentNullException.ThrowIfNull(encoder);
        ArgumentNullException.ThrowIfNull(decoder);
        encoder.Validate();
        decoder.Validate();
        Validate(encoder, decoder);
        var e = RnnModel.Create(encoder, accelerator, seed);
        try
        {
            return new Seq2SeqModel(e, RnnModel.Create(decoder, accelerator, unchecked(seed + 1)), feedback);
        }
        catch
        {
            e.Dispose();
            throw;
        }
    }

    public RnnModel Encoder { get; }
    public RnnModel Decoder { get; }

    /// <summary>How <see cref="Generate"/> feeds the decoder's outputs back by default; saved with the checkpoint.</summary>
    public FeedbackKind FeedbackKind { get; set; }

    /// <summary>How both models' weights are stored: fp32 unless <see cref="Quantize"/> (or a quantized checkpoint) made them int8 or bf16.</summary>
    public QuantizedWeights Weights => Encoder.Weights;

    /// <summary>Quantizes both models' weights for inference (<see cref="RnnModel.Quantize"/>); training stays float32.</summary>
    public void Quantize(QuantizedWeights kind)
    {
        Encoder.Quantize(kind);
        Decoder.Quantize(kind);
    }

    /// <summary>Checks that the encoder's final state can start the decoder; the error says what to change.</summary>
    public static void Validate(RnnConfig encoder, RnnConfig decoder)
    {
        ArgumentNullException.ThrowIfNull(encoder);
        ArgumentNullException.ThrowIfNull(decoder);
        if (encoder.HasHead || encoder.ManyToOne)
            throw new ShapeException($"the encoder has a head ({encoder.OutputSize} outputs): an encoder hands over its final state only; give it output size 0");
        if (decoder.Bidirectional)
            throw new ShapeException("the decoder cannot be bidirectional: it generates one step at a time, and a reverse direction needs the steps that come later");
        if (decoder.ManyToOne)
            throw new ShapeException("the decoder must have an output at every step (HeadInput.EveryStep), not one per sequence");
        if (encoder.Cell != decoder.Cell)
            throw new ShapeException($"the encoder is a {encoder.Cell.ToName()} and the decoder a {decoder.Cell.ToName()}: the encoder's final state starts the decoder, so both need the same cell");
        int eg = encoder.NumLayers * encoder.Directions, dg = decoder.NumLayers * decoder.Directions;
        if (encoder.ProjSize != decoder.ProjSize)
            throw new ShapeException($"the encoder's proj size {encoder.ProjSize} and the decoder's {decoder.ProjSize} differ: the encoder's final h starts the decoder, so give both the same");
        if (eg != dg || encoder.HiddenSize != decoder.HiddenSize)
            throw new ShapeException(
                $"the encoder's final state [{eg}, batch, {encoder.StateSize}] ({encoder.NumLayers} layer(s) x {encoder.Directions} direction(s), hidden {encoder.HiddenSize}) " +
                $"cannot start the decoder, whose state is [{dg}, batch, {decoder.StateSize}]: give both the same layers x directions and hidden size");
    }

    /// <summary>The encoder's final state [L * D, B, S] for input [B, T, I] (each sequence to its length): the decoder's initial state.</summary>
    public Tensor Encode(Tensor input, IReadOnlyList<int>? lengths = null) => EncodeStates(input, lengths).H;

    /// <summary>The encoder's final h [L * D, B, S] and, for an LSTM, c [L * D, B, H]: the decoder's initial states.</summary>
    public (Tensor H, Tensor? C) EncodeStates(Tensor input, IReadOnlyList<int>? lengths = null)
    {
        var encoded = Encoder.Forward(input, null, lengths);
        return (encoded.FinalState, encoded.FinalCell);
    }

    /// <summary>
    /// The teacher-forced pass: encodes <paramref name="input"/>, then runs the decoder over
    /// <paramref name="decoderInput"/> [B, T', I'] from the encoder's final state. Returns the decoder's
    /// outputs [B, T', O] and final state.
    /// </summary>
    public RnnOutput Forward(Tensor input, Tensor decoderInput, IReadOnlyList<int>? lengths = null, IReadOnlyList<int>? decoderLengths = null)
    {
        ArgumentNullException.ThrowIfNull(decoderInput);
        CheckBatch(input, decoderInput);
        var (h, c) = EncodeStates(input, lengths);
        return Decoder.Forward(decoderInput, h, decoderLengths, c);
    }

    /// <summary>
    /// Encodes <paramref name="input"/>, then generates <paramref name="steps"/> decoder steps from
    /// <paramref name="start"/> ([B, I'] or [I']; zeros when null, as <see cref="TeacherForcing.ShiftRight"/>
    /// starts), feeding each output back through <paramref name="feedback"/> (<see cref="FeedbackKind"/>'s when null).
    /// </summary>
    public GenerationResult Generate(Tensor input, int steps, IReadOnlyList<int>? lengths = null, Tensor? start = null,
        Func<Tensor, Tensor>? feedback = null)
    {
        ArgumentNullException.ThrowIfNull(input);
        var (batch, _) = Encoder.CheckInput(input);
        int width = Decoder.Config.InputSize;
        var first = TeacherForcing.StartSteps(start, batch, width);
        var (h, c) = EncodeStates(input, lengths);
        return new Generator(Decoder).Generate(new Tensor(first, batch, width), steps, h, feedback ?? Feedback.For(FeedbackKind), initialCell: c);
    }

    /// <summary>
    /// The decoder's loss on <paramref name="target"/> (see <see cref="LossKind"/>) after the teacher-forced
    /// pass, and the gradient of every parameter of both models, of the input and of the decoder's input.
    /// The encoder's gradients are those the decoder hands back through its initial state. Changes no
    /// weight. With dropout masks, the training-mode pass of each model.
    /// </summary>
    public Seq2SeqGradients ComputeGradients(Tensor input, Tensor decoderInput, Tensor target, LossKind loss,
        IReadOnlyList<int>? lengths = null, IReadOnlyList<int>? decoderLengths = null,
        DropoutMasks? encoderDropout = null, DropoutMasks? decoderDropout = null)
    {
        var (value, encoder, decoder) = ForwardBackward(input, decoderInput, target, loss, lengths, decoderLengths, encoderDropout, decoderDropout,
            inputGradients: true);
        return new Seq2SeqGradients(value, Encoder.GradientsByName(), Decoder.GradientsByName(), encoder.InputGradient(), decoder.InputGradient());
    }

    /// <summary>
    /// Forward and backward through both models, leaving the gradients in each model's Gradients buffer.
    /// The decoder starts from the encoder's final state; its dL/dh0 is the encoder's dL/d(final state).
    /// Every check runs before the first kernel.
    /// </summary>
    internal (double Loss, RnnPass Encoder, RnnPass Decoder) ForwardBackward(Tensor input, Tensor decoderInput, Tensor target,
        LossKind loss, IReadOnlyList<int>? lengths, IReadOnlyList<int>? decoderLengths,
        DropoutMasks? encoderDropout, DropoutMasks? decoderDropout, bool inputGradients)
    {
        ArgumentNullException.ThrowIfNull(target);
        CheckBatch(input, decoderInput);
        var (batch, time) = Decoder.CheckInput(decoderInput);
        Losses.PrepareTarget(Decoder.Config, target, loss, StepLayout.ForLengths(batch, time, decoderLengths));
        StepLayout.ForLengths(batch, input.Shape[1], lengths);

        var encoder = Encoder.Prepare(input, null, lengths, null);
        encoder.Forward(Encoder.MaskSource(encoder, encoderDropout));
        bool cells = Encoder.Config.HasCellState;
        var decoder = Decoder.Prepare(decoderInput, encoder.FinalState(), decoderLengths, cells ? encoder.FinalCell() : null);
        var packed = Losses.PrepareTarget(Decoder.Config, target, loss, decoder.Layout);
        decoder.Forward(Decoder.MaskSource(decoder, decoderDropout));
        double value = Losses.Evaluate(decoder, packed, loss);
        decoder.Backward(inputGradients, decoderDropout is not null);

        // The encoder has no loss of its own: the gradient arriving at its top layer's outputs is zero,
        // and all of it comes through the final state, the decoder's dL/dh0 (and dL/dc0).
        var ec = Encoder.Config;
        for (int d = 0; d < ec.Directions; d++) Encoder.Accelerator.Fill(encoder.DStates(ec.NumLayers - 1, d), 0f);
        encoder.Backward(inputGradients, encoderDropout is not null, decoder.InitialStateGradient(), cells ? decoder.InitialCellGradient() : null);
        return (value, encoder, decoder);
    }

    private void CheckBatch(Tensor input, Tensor decoderInput)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(decoderInput);
        var (batch, _) = Encoder.CheckInput(input);
        var (decoderBatch, _) = Decoder.CheckInput(decoderInput);
        if (batch != decoderBatch)
            throw new ShapeException($"the encoder's input holds {batch} sequences but the decoder's {decoderBatch}: each input sequence needs its decoder sequence");
    }

    public void Dispose()
    {
        Encoder.Dispose();
        Decoder.Dispose();
    }
}

/// <summary>
/// The decoder's loss; the gradient of every parameter of the encoder and of the decoder by PyTorch name;
/// dL/d(input) [B, T, I] and dL/d(decoder input) [B, T', I'] (zeros past each sequence's end).
/// </summary>
public sealed record Seq2SeqGradients(double Loss, IReadOnlyDictionary<string, Tensor> Encoder,
    IReadOnlyDictionary<string, Tensor> Decoder, Tensor Input, Tensor DecoderInput);
