using RnnGpu.Tasks;
using RnnGpu.Training;

namespace RnnGpu.Cli.Training;

/// <summary>
/// The .npy arrays of numeric training, read and checked against each other for a task:
/// many-to-many  X [N, T, I], Y [N, T, O] or [N, T] ids, --lengths [N] of X (and Y);
/// many-to-one   X [N, T, I], Y [N, O] or [N] ids, --lengths [N] of X;
/// one-to-many   X [N, I] start steps, Y [N, T, I] or [N, T] ids (in [0, I)), --lengths [N] of Y; the model
///               is fed the start step, then Y shifted right (teacher forcing), so it learns to generate Y;
/// encoder-decoder X [N, T, I], Y [N, T', O] or [N, T'] ids, --lengths [N] of X, --target-lengths [N] of Y,
///               --decoder-inputs D [N, T', I'] (default: Y shifted right with a zero start step).
/// </summary>
internal sealed class NumericData
{
    private NumericData(Tensor inputs, Tensor targets, int[]? lengths, int[]? targetLengths, Tensor? decoderInputs)
    {
        Inputs = inputs;
        Targets = targets;
        Lengths = lengths;
        TargetLengths = targetLengths;
        DecoderInputs = decoderInputs;
    }

    /// <summary>What the (encoder) model reads: [N, T, I]; for one-to-many, the teacher-forced inputs.</summary>
    public Tensor Inputs { get; }

    public Tensor Targets { get; }

    /// <summary>Lengths of the sequences of <see cref="Inputs"/> (and of the targets, but for encoder-decoder).</summary>
    public int[]? Lengths { get; }

    /// <summary>Encoder-decoder: lengths of the target (and decoder input) sequences.</summary>
    public int[]? TargetLengths { get; }

    /// <summary>Encoder-decoder: the decoder's inputs [N, T', I'] from --decoder-inputs; null until derived from the targets.</summary>
    public Tensor? DecoderInputs { get; private set; }

    public int Count => Inputs.Shape[0];

    /// <summary>Features per input step (of the start steps, for one-to-many).</summary>
    public int InputSize { get; private init; }

    /// <summary>Outputs per step: the targets' width, or the number of classes (largest id + 1; one-to-many: the input width).</summary>
    public int OutputSize { get; private init; }

    /// <summary>A line saying what was read.</summary>
    public string Summary { get; private init; } = "";

    public static NumericData Load(TrainSettings s, LossKind loss)
    {
        string xPath = s.InputsPath!, yPath = s.TargetsPath!;
        var task = s.Task;
        bool ce = loss == LossKind.CrossEntropy;
        var x = task == SequenceTask.OneToMany ? NpyInputs.ReadSteps(xPath, "the start steps") : NpyInputs.ReadSequences(xPath, "the inputs");
        int count = x.Shape[0], inputSize = x.Shape[^1];

        Tensor y;
        int outputSize;
        if (ce)
        {
            (y, long maxId) = NpyInputs.ReadClassIds(yPath, perStep: task != SequenceTask.ManyToOne);
            outputSize = checked((int)maxId + 1);
        }
        else
        {
            y = task == SequenceTask.ManyToOne ? NpyInputs.ReadRows(yPath, "the targets") : NpyInputs.ReadSequences(yPath, "the targets");
            outputSize = y.Shape[^1];
            if (loss == LossKind.BinaryCrossEntropy && Array.FindIndex(y.Data, v => v < 0 || v > 1) is var bad and >= 0)
                throw new ShapeException($"{yPath}: binary cross-entropy targets must be in [0, 1]; flat index {bad} holds {y.Data[bad]}");
        }

        if (task == SequenceTask.ManyToMany && (y.Shape[0] != count || y.Shape[1] != x.Shape[1]))
            throw new ShapeException(
                $"{xPath} has shape {x.ShapeText} but {yPath} has {y.ShapeText}: the targets must have the same batch ({count}) and time ({x.Shape[1]}) dimensions"
                + (ce ? $", i.e. shape [{count}, {x.Shape[1]}] of class ids" : ""));
        if (y.Shape[0] != count)
            throw new ShapeException($"{xPath} holds {count} sequences but {yPath} holds {y.Shape[0]} targets: one per sequence");
        if (task == SequenceTask.OneToMany)
        {
            if (ce && outputSize > inputSize)
                throw new ShapeException(
                    $"{yPath} holds class id {outputSize - 1} but the start steps in {xPath} are {inputSize} wide: a generator is fed its classes back one-hot, so every id must be below the input width");
            if (!ce && outputSize != inputSize)
                throw new ShapeException(
                    $"{yPath} has {outputSize} features per step but the start steps in {xPath} have {inputSize}: a generator is fed its outputs back, so the two must be equal");
            outputSize = inputSize;
        }

        // One-to-many: the lengths are the targets'; the model's inputs have the same steps.
        var (timed, timedPath) = task == SequenceTask.OneToMany ? (y, yPath) : (x, xPath);
        int[]? lengths = s.LengthsPath is null ? null : NpyInputs.ReadLengths(s.LengthsPath, count, timed.Shape[1], timedPath);
        int[]? targetLengths = s.TargetLengthsPath is null ? null : NpyInputs.ReadLengths(s.TargetLengthsPath, count, y.Shape[1], yPath);

        Tensor? decoderInputs = null;
        if (s.DecoderInputsPath is { } dPath)
        {
            decoderInputs = NpyInputs.ReadSequences(dPath, "the decoder inputs");
            if (decoderInputs.Shape[0] != count || decoderInputs.Shape[1] != y.Shape[1])
                throw new ShapeException(
                    $"{dPath} has shape {decoderInputs.ShapeText} but {yPath} has {y.ShapeText}: the decoder needs one input step per target step, [{count}, {y.Shape[1]}, features]");
        }

        var inputs = task == SequenceTask.OneToMany ? TeacherForcing.ShiftRight(y, inputSize, x, lengths) : x;
        string steps = task == SequenceTask.OneToMany ? $"{y.Shape[1]} generated steps from start steps of" : $"{x.Shape[1]} steps,";
        string outputs = ce ? $"{outputSize} classes" : $"{outputSize} outputs";
        string targets = task switch
        {
            SequenceTask.ManyToOne => $"{outputs} per sequence",
            SequenceTask.EncoderDecoder => $"{y.Shape[1]} decoder steps of {outputs}",
            _ => outputs,
        };
        return new NumericData(inputs, y, lengths, targetLengths, decoderInputs)
        {
            InputSize = inputSize,
            OutputSize = outputSize,
            Summary = $"{count} sequences of {steps} {inputSize} inputs -> {targets}, loss {LossName(loss)}, task {task.Name()}"
                + Describe("lengths", lengths, s.LengthsPath) + Describe("target lengths", targetLengths, s.TargetLengthsPath)
                + (s.DecoderInputsPath is null ? "" : $", decoder inputs from {s.DecoderInputsPath}"),
        };
    }

    /// <summary>Encoder-decoder without --decoder-inputs: the targets shifted right, one-hot for class ids, for a decoder of this input width.</summary>
    public void DeriveDecoderInputs(int decoderInputSize, string yPath)
    {
        if (DecoderInputs is not null) return;
        try
        {
            DecoderInputs = TeacherForcing.ShiftRight(Targets, decoderInputSize, lengths: TargetLengths);
        }
        catch (ShapeException e)
        {
            throw new ShapeException($"{yPath}: {e.Message}");
        }
    }

    /// <summary>Sequences order[start .. start + n) of every array, as a new batch.</summary>
    public NumericData Batch(int[] order, int start, int n) =>
        new(Gather(Inputs, order, start, n), Gather(Targets, order, start, n), Gather(Lengths, order, start, n),
            Gather(TargetLengths, order, start, n), DecoderInputs is null ? null : Gather(DecoderInputs, order, start, n))
        {
            InputSize = InputSize,
            OutputSize = OutputSize,
        };

    public static string LossName(LossKind loss) => loss switch
    {
        LossKind.Mse => "mse",
        LossKind.CrossEntropy => "cross-entropy",
        _ => "binary cross-entropy",
    };

    private static string Describe(string what, int[]? lengths, string? path) =>
        lengths is null ? "" : $", {what} {lengths.Min()}..{lengths.Max()} (mean {lengths.Average():F1}) from {path}";

    private static Tensor Gather(Tensor source, int[] order, int start, int n)
    {
        int rowLength = source.Length / source.Shape[0];
        var data = new float[n * rowLength];
        for (int i = 0; i < n; i++)
            Array.Copy(source.Data, (long)order[start + i] * rowLength, data, (long)i * rowLength, rowLength);
        var shape = (int[])source.Shape.Clone();
        shape[0] = n;
        return new Tensor(data, shape);
    }

    private static int[]? Gather(int[]? source, int[] order, int start, int n)
    {
        if (source is null) return null;
        var result = new int[n];
        for (int i = 0; i < n; i++) result[i] = source[order[start + i]];
        return result;
    }
}
