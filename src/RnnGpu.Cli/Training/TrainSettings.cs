namespace RnnGpu.Cli.Training;

/// <summary>The `train` command line, options left null when not given so each mode applies its own defaults.</summary>
internal sealed class TrainSettings
{
    public const string DefaultSavePath = "model.safetensors";

    /// <summary>Steps of the default text job: 13-16 ms each on a 2-core CPU, so about 40-50 s.</summary>
    public const int DefaultTextSteps = 3000;

    public string? TextPath { get; init; }
    public string? InputsPath { get; init; }
    public string? TargetsPath { get; init; }
    public string? Loss { get; init; }
    public SequenceTask Task { get; init; } = SequenceTask.ManyToMany;
    public string? LengthsPath { get; init; }
    public string? TargetLengthsPath { get; init; }
    public string? DecoderInputsPath { get; init; }
    public bool Bidirectional { get; init; }
    public float? Dropout { get; init; }
    public int? Hidden { get; init; }
    public int? Layers { get; init; }
    public string? Nonlinearity { get; init; }
    public string? Cell { get; init; }
    public int? ProjSize { get; init; }
    public string Optimizer { get; init; } = "adam";
    public float? LearningRate { get; init; }
    public float? Momentum { get; init; }
    public float WeightDecay { get; init; }
    public int? BatchSize { get; init; }
    public int? Bptt { get; init; }
    public float? Clip { get; init; }
    public int Seed { get; init; }
    public string? InitPath { get; init; }
    public string SavePath { get; init; } = DefaultSavePath;
    public int? Epochs { get; init; }
    public int? Steps { get; init; }
    public int? SequenceLength { get; init; }
    public int? SampleLength { get; init; }
    public float? Temperature { get; init; }
    public BackendChoice Backend { get; init; } = new("auto");
}
