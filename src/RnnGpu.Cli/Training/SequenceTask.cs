namespace RnnGpu.Cli.Training;

/// <summary>What numeric training learns: `rnngpu train --task NAME`.</summary>
internal enum SequenceTask
{
    /// <summary>An output at every step: X [batch, time, input], Y [batch, time, output] or [batch, time] ids.</summary>
    ManyToMany,

    /// <summary>One output per sequence from its final state: Y [batch, output] or [batch] ids.</summary>
    ManyToOne,

    /// <summary>A generator: X [batch, input] start steps, Y [batch, time, output] trained with teacher forcing.</summary>
    OneToMany,

    /// <summary>An encoder and a decoder: X [batch, time, input], Y [batch, time', output], teacher forcing.</summary>
    EncoderDecoder,
}

internal static class SequenceTasks
{
    public static readonly string[] Names = ["many-to-many", "many-to-one", "one-to-many", "encoder-decoder"];

    public static SequenceTask Parse(string? name) => name switch
    {
        null or "many-to-many" => SequenceTask.ManyToMany,
        "many-to-one" => SequenceTask.ManyToOne,
        "one-to-many" => SequenceTask.OneToMany,
        "encoder-decoder" => SequenceTask.EncoderDecoder,
        _ => throw new UsageException($"unknown task '{name}': expected {string.Join(", ", Names)}"),
    };

    public static string Name(this SequenceTask task) => Names[(int)task];
}
