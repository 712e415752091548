using RnnGpu.Accelerators;
using RnnGpu.IO;
using RnnGpu.Model;
using RnnGpu.Training;

namespace RnnGpu.Cli.Training;

/// <summary>What both training modes share: the model (new or from --init), the optimizer, the save path.</summary>
internal static class ModelSetup
{
    /// <summary>
    /// A new model of this architecture, or the --init checkpoint, whose architecture wins: then
    /// --hidden, --layers and --nonlinearity, where given, must agree with it.
    /// </summary>
    public static RnnModel CreateOrLoad(TrainSettings s, Accelerator accelerator, Func<RnnConfig> newConfig)
    {
        if (s.InitPath is null) return RnnModel.Create(newConfig(), accelerator, s.Seed);

        var model = Checkpoint.Load(s.InitPath, accelerator);
        try
        {
            var c = model.Config;
            if (s.Hidden is { } h && h != c.HiddenSize)
                throw new UsageException($"--hidden {h} contradicts {s.InitPath}, whose hidden size is {c.HiddenSize} (leave --hidden out to keep it)");
            if (s.Layers is { } l && l != c.NumLayers)
                throw new UsageException($"--layers {l} contradicts {s.InitPath}, which has {c.NumLayers} layer(s) (leave --layers out to keep them)");
            if (s.Nonlinearity is { } n && ActivationNames.Parse(n) != c.Nonlinearity)
                throw new UsageException($"--nonlinearity {n} contradicts {s.InitPath}, which uses {c.Nonlinearity.ToName()}");
            return model;
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    public static Activation Nonlinearity(TrainSettings s) => s.Nonlinearity is { } n ? ActivationNames.Parse(n) : Activation.Tanh;

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
        $"hidden {c.HiddenSize}, {c.NumLayers} layer{(c.NumLayers == 1 ? "" : "s")}, {c.Nonlinearity.ToName()}, " +
        (c.HasHead ? $"head {c.HiddenSize}->{c.OutputSize}" : "no head");

    /// <summary>Fails before training when the checkpoint could not be written afterwards.</summary>
    public static string CheckSavePath(string path)
    {
        string full = Path.GetFullPath(path);
        if (Directory.Exists(full)) throw new UsageException($"--save {path} is a directory; give a file name such as {Path.Combine(path, TrainSettings.DefaultSavePath)}");
        string? dir = Path.GetDirectoryName(full);
        if (dir is not null && !Directory.Exists(dir)) throw new UsageException($"cannot save to {path}: the directory {dir} does not exist");
        return full;
    }
}
