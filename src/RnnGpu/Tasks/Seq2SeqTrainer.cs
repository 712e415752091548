using RnnGpu.Training;

namespace RnnGpu.Tasks;

/// <summary>
/// Trains an encoder-decoder pair with teacher forcing, one optimizer step per batch: encode, run the
/// decoder over the target shifted right (or the decoder inputs given), the decoder's loss, backward
/// through the decoder and, through its initial state, the encoder; then clipping by the global norm of
/// both models' gradients together (as clip_grad_norm_ over both parameter lists), and each model's own
/// optimizer. Dropout masks are drawn from <c>seed</c> (encoder) and seed + 1 (decoder). A non-finite
/// loss or gradient raises <see cref="NonFiniteException"/> before either model changes.
/// </summary>
public sealed class Seq2SeqTrainer
{
    private readonly DropoutMasks? _encoderDropout, _decoderDropout;

    public Seq2SeqTrainer(Seq2SeqModel model, Optimizer encoderOptimizer, Optimizer decoderOptimizer, LossKind loss,
        float? clipNorm = null, int seed = 0)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(encoderOptimizer);
        ArgumentNullException.ThrowIfNull(decoderOptimizer);
        if (ReferenceEquals(encoderOptimizer, decoderOptimizer))
            throw new ShapeException("the encoder and the decoder need an optimizer each (an optimizer holds the state of one model)");
        if (!Enum.IsDefined(loss)) throw new ShapeException($"unknown loss {(int)loss}");
        GradientClipping.Check(clipNorm);
        Model = model;
        EncoderOptimizer = encoderOptimizer;
        DecoderOptimizer = decoderOptimizer;
        Loss = loss;
        ClipNorm = clipNorm;
        var (e, d) = (model.Encoder.Config, model.Decoder.Config);
        _encoderDropout = e.Dropout > 0 ? new DropoutMasks(e.Dropout, seed) : null;
        _decoderDropout = d.Dropout > 0 ? new DropoutMasks(d.Dropout, unchecked(seed + 1)) : null;
    }

    public Seq2SeqModel Model { get; }
    public Optimizer EncoderOptimizer { get; }
    public Optimizer DecoderOptimizer { get; }
    public LossKind Loss { get; }
    public float? ClipNorm { get; }

    /// <summary>
    /// One step on input [B, T, I] (each sequence to its <paramref name="lengths"/>) and the decoder's
    /// target ([B, T', O] values, or [B, T'] class ids for cross-entropy; each to its
    /// <paramref name="targetLengths"/>). The decoder is fed <paramref name="decoderInput"/> [B, T', I'],
    /// or, when null, the target shifted right with a zero start step (<see cref="TeacherForcing.ShiftRight"/>).
    /// Returns the loss before the update and the global gradient norm before clipping.
    /// </summary>
    public Seq2SeqStepResult Step(Tensor input, Tensor target, Tensor? decoderInput = null,
        IReadOnlyList<int>? lengths = null, IReadOnlyList<int>? targetLengths = null)
    {
        ArgumentNullException.ThrowIfNull(target);
        decoderInput ??= TeacherForcing.ShiftRight(target, Model.Decoder.Config.InputSize, lengths: targetLengths);
        var (loss, _, _) = Model.ForwardBackward(input, decoderInput, target, Loss, lengths, targetLengths,
            _encoderDropout, _decoderDropout, inputGradients: false);
        double norm = GradientClipping.Clip(ClipNorm, Model.Encoder, Model.Decoder);
        EncoderOptimizer.Step(Model.Encoder);
        DecoderOptimizer.Step(Model.Decoder);
        return new Seq2SeqStepResult(loss, norm);
    }
}

/// <summary>The decoder's loss before the update, and the global gradient norm of both models before clipping.</summary>
public sealed record Seq2SeqStepResult(double Loss, double GradientNorm);
