using System.Globalization;
using RnnGpu.Accelerators;
using RnnGpu.IO;
using RnnGpu.Model;
using RnnGpu.Tasks;
using RnnGpu.Training;

namespace RnnGpu.Cli.Training;

/// <summary>What the training modes share: the model (new or from --init), the optimizer, the save path.</summary>
internal static class ModelSetup
{
    /// <summary>
    /// A new model of this architecture, or the --init checkpoint, whose architecture wins: then
    /// --hidden, --layers, --nonlinearity, --cell, --proj-size, --bidirectional and --dropout, where given, must agree with it.
    /// </summary>
    public static RnnModel CreateOrLoad(TrainSettings s, Accelerator accelerator, Func<RnnConfig> newConfig)
    {
        if (s.InitPath is null) return RnnModel.Create(newConfig(), accelerator, s.Seed);

        var file = SafetensorsFile.Read(s.InitPath);
        if (Seq2SeqCheckpoint.IsSeq2Seq(file))
            throw new UsageException($"{s.InitPath} is an encoder-decoder checkpoint: continue its training with --task encoder-decoder");
        var model = Checkpoint.Load(file, accelerator);
        try
        {
            CheckAgainst(s, model.Config, model.Config.NumLayers);
            return model;
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    /// <summary>The options given must agree with the --init checkpoint's architecture (of its encoder, for an encoder-decoder).</summary>
    public static void CheckAgainst(TrainSettings s, RnnConfig c, int layers)
    {
        if (s.Hidden is { } h && h != c.HiddenSize)
            throw new UsageException($"--hidden {h} contradicts {s.InitPath}, whose hidden size is {c.HiddenSize} (leave --hidden out to keep it)");
        if (s.Layers is { } l && l != layers)
            throw new UsageException($"--layers {l} contradicts {s.InitPath}, which has {layers} layer(s) (leave --layers out to keep them)");
        if (s.Nonlinearity is { } n && ActivationNames.Parse(n) != c.Nonlinearity)
            throw new UsageException($"--nonlinearity {n} contradicts {s.InitPath}, which uses {c.Nonlinearity.ToName()}");
        if (s.Cell is { } cell && CellKindNames.ParseCell(cell) != c.Cell)
            throw new UsageException($"--cell {cell} contradicts {s.InitPath}, whose cell is {c.Cell.ToName()}");
        if (s.ProjSize is { } p0 && p0 != c.ProjSize)
            throw new UsageException($"--proj-size {p0} contradicts {s.InitPath}, whose projection is {(c.ProjSize > 0 ? c.ProjSize.ToString(CultureInfo.InvariantCulture) : "none")}");
        if (s.Bidirectional && !c.Bidirectional)
            throw new UsageException($"--bidirectional contradicts {s.InitPath}, whose layers run forward only");
        if (s.Dropout is { } p && p != c.Dropout)
            throw new UsageException($"--dropout {Show(p)} contradicts {s.InitPath}, whose dropout is {Show(c.Dropout)} (leave --dropout out to keep it)");
    }

    public static Activation Nonlinearity(TrainSettings s) => s.Nonlinearity is { } n ? ActivationNames.Parse(n) : Activation.Tanh;

    public static CellKind Cell(TrainSettings s) => s.Cell is { } c ? CellKindNames.ParseCell(c) : CellKind.Rnn;

    /// <summary>A new model's architecture: the sizes and head given, the cell, projection, nonlinearity, directions and dropout of the options.</summary>
    public static RnnConfig NewConfig(TrainSettings s, int input, int hidden, int layers, int output, bool bidirectional,
        HeadInput head = HeadInput.EveryStep) =>
        new(input, hidden, layers, Nonlinearity(s), output, bidirectional, s.Dropout ?? 0f, head, Cell(s), s.ProjSize ?? 0);

    public static Optimizer CreateOptimizer(TrainSettings s, float adamDefault, float sgdDefault) => s.Optimizer switch
    {
        "sgd" => new Sgd(s.LearningRate ?? sgdDefault, s.Momentum ?? 0f, s.WeightDecay),
        _ => new Adam(s.LearningRate ?? adamDefault, weightDecay: s.WeightDecay),
    };

    public static string DescribeOptimizer(Optimizer o) => o switch
    {
        Sgd sgd => $"sgd lr {sgd.LearningRate:G4}" + (sgd.Momentum > 0 ? $" momentum {sgd.Momentum:G3}" : ""),
        Adam adam => $"adam lr {adam.LearningRate:G4}",
        _ => o.GetType().Name,
    };

    public static string DescribeModel(RnnConfig c) =>
        (c.Cell == CellKind.Rnn ? $"rnn ({c.Nonlinearity.ToName()}), " : $"{c.Cell.ToName()}, ") +
        $"hidden {c.HiddenSize}, " + (c.ProjSize > 0 ? $"projection {c.ProjSize}, " : "") + $"{c.NumLayers} layer{(c.NumLayers == 1 ? "" : "s")}, " +
        (c.Bidirectional ? "bidirectional, " : "") +
        (c.Dropout > 0 ? $"dropout {Show(c.Dropout)}, " : "") +
        (c.HasHead ? $"head {c.LayerOutputSize}->{c.OutputSize}" + (c.ManyToOne ? " on the final state" : "") : "no head");

    /// <summary>A note when dropout is asked of a single layer, where PyTorch's placement gives it nothing to act on.</summary>
    public static void NoteDropout(CliContext ctx, RnnConfig c)
    {
        if (c.Dropout > 0 && c.NumLayers == 1)
            ctx.Err.WriteLine($"note: dropout {Show(c.Dropout)} acts between stacked layers; with 1 layer it does nothing (add --layers 2 or more)");
    }

    /// <summary>Fails before training when the checkpoint could not be written afterwards.</summary>
    public static string CheckSavePath(string path)
    {
        string full = Path.GetFullPath(path);
        if (Directory.Exists(full)) throw new UsageException($"--save {path} is a directory; give a file name such as {Path.Combine(path, TrainSettings.DefaultSavePath)}");
        string? dir = Path.GetDirectoryName(full);
        if (dir is not null && !Directory.Exists(dir)) throw new UsageException($"cannot save to {path}: the directory {dir} does not exist");
        return full;
    }

    private static string Show(float v) => v.ToString("G6", CultureInfo.InvariantCulture);
}
