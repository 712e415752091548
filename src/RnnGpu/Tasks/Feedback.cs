namespace RnnGpu.Tasks;

/// <summary>How a generated output becomes the next input; see <see cref="Feedback"/>.</summary>
public enum FeedbackKind
{
    /// <summary>The output itself (regression: the model forecasts its own next input). Needs outputs as wide as inputs.</summary>
    Identity,

    /// <summary>The one-hot code of the largest output (greedy decoding of classes trained with cross-entropy).</summary>
    ArgmaxOneHot,

    /// <summary>sigmoid(output) (binary targets trained with binary cross-entropy, fed back as probabilities).</summary>
    Sigmoid,
}

/// <summary>
/// Feedback functions for one-to-many generation: each maps the model's outputs of one step [B, O] to
/// the inputs of the next step [B, I]. Any Func&lt;Tensor, Tensor&gt; of that contract works as well.
/// </summary>
public static class Feedback
{
    /// <summary>The output itself.</summary>
    public static Func<Tensor, Tensor> Identity { get; } = output => output;

    /// <summary>The one-hot code of each row's largest output (the first on a tie).</summary>
    public static Func<Tensor, Tensor> ArgmaxOneHot { get; } = output => OneHotRows(output, row =>
    {
        int best = 0;
        for (int k = 1; k < row.Length; k++) if (row[k] > row[best]) best = k;
        return best;
    });

    /// <summary>sigmoid(output), element by element.</summary>
    public static Func<Tensor, Tensor> Sigmoid { get; } = output =>
        new Tensor(Array.ConvertAll(output.Data, v => 1f / (1f + MathF.Exp(-v))), output.Shape);

    /// <summary>The one-hot code of a class drawn per row from softmax(output / temperature) with <paramref name="random"/>.</summary>
    public static Func<Tensor, Tensor> SampleOneHot(float temperature, Random random)
    {
        ArgumentNullException.ThrowIfNull(random);
        CheckTemperature(temperature);
        double[] probabilities = [];
        return output =>
        {
            if (probabilities.Length != output.Shape[^1]) probabilities = new double[output.Shape[^1]];
            return OneHotRows(output, row => Draw(row, temperature, random, probabilities));
        };
    }

    /// <summary>The function of a <see cref="FeedbackKind"/>.</summary>
    public static Func<Tensor, Tensor> For(FeedbackKind kind) => kind switch
    {
        FeedbackKind.Identity => Identity,
        FeedbackKind.ArgmaxOneHot => ArgmaxOneHot,
        FeedbackKind.Sigmoid => Sigmoid,
        _ => throw new ShapeException($"unknown feedback {(int)kind}"),
    };

    /// <summary>The name the CLI and checkpoints use: identity, argmax or sigmoid.</summary>
    public static string ToName(this FeedbackKind kind) => kind switch
    {
        FeedbackKind.Identity => "identity",
        FeedbackKind.ArgmaxOneHot => "argmax",
        FeedbackKind.Sigmoid => "sigmoid",
        _ => throw new ShapeException($"unknown feedback {(int)kind}"),
    };

    public static FeedbackKind Parse(string name) => name.ToLowerInvariant() switch
    {
        "identity" => FeedbackKind.Identity,
        "argmax" or "argmax-one-hot" => FeedbackKind.ArgmaxOneHot,
        "sigmoid" => FeedbackKind.Sigmoid,
        _ => throw new ShapeException($"unknown feedback '{name}': expected identity, argmax or sigmoid"),
    };

    internal static void CheckTemperature(float temperature)
    {
        if (!(temperature > 0) || !float.IsFinite(temperature))
            throw new ShapeException($"temperature {temperature} must be a positive finite number (lower is more conservative, e.g. 0.8)");
    }

    /// <summary>A class drawn from softmax(logits / temperature), computed in double with the maximum subtracted.</summary>
    internal static int Draw(ReadOnlySpan<float> logits, float temperature, Random random, double[] probabilities)
    {
        double max = double.NegativeInfinity;
        foreach (float l in logits) max = Math.Max(max, l);
        if (!double.IsFinite(max)) throw new NonFiniteException($"the model's output logits are not finite (max {max})");
        double sum = 0;
        for (int i = 0; i < logits.Length; i++)
        {
            probabilities[i] = Math.Exp((logits[i] - max) / temperature);
            sum += probabilities[i];
        }
        double u = random.NextDouble() * sum;
        for (int i = 0; i < logits.Length; i++)
        {
            u -= probabilities[i];
            if (u < 0) return i;
        }
        // Rounding left a sliver: take the last class with any mass.
        for (int i = logits.Length - 1; i >= 0; i--)
            if (probabilities[i] > 0) return i;
        return 0;
    }

    /// <summary>Per row of a [B, O] tensor, the one-hot code [B, O] of the class <paramref name="pick"/> chooses.</summary>
    private static Tensor OneHotRows(Tensor output, Func<float[], int> pick)
    {
        if (output.Rank != 2) throw new ShapeException($"feedback takes one step's outputs [batch, output], got {output.ShapeText}");
        int batch = output.Shape[0], width = output.Shape[1];
        var data = new float[batch * width];
        var row = new float[width];
        for (int b = 0; b < batch; b++)
        {
            Array.Copy(output.Data, b * width, row, 0, width);
            data[b * width + pick(row)] = 1f;
        }
        return new Tensor(data, batch, width);
    }
}
