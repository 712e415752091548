using System.Text;

namespace RnnGpu.Tests.Tasks;

/// <summary>
/// The data of the worked examples (docs/examples.md), each drawn from a seeded generator so that a
/// seed gives the same set on every machine: held-out sets use a seed training never does.
/// </summary>
internal static class ExampleData
{
    public const string Letters = "abcdefghijklmnopqrstuvwxyz";
    public const string Word = "bravo";

    /// <summary>
    /// Many-to-one: streams of random lowercase letters, one-hot [n, maxLength, 26], of lengths in
    /// [minLength, maxLength]; label [n] 1 when the stream contains "bravo" (every even index: balanced), else 0.
    /// Half of the negatives hold a near miss, "bravo" with one letter changed, so that spotting a
    /// fragment such as "vo" is not enough.
    /// </summary>
    public static (Tensor Streams, Tensor Labels, int[] Lengths) WordStreams(Random rng, int n, int minLength = 10, int maxLength = 24)
    {
        var x = new float[n * maxLength * Letters.Length];
        var labels = new float[n];
        var lengths = new int[n];
        for (int b = 0; b < n; b++)
        {
            int length = rng.Next(minLength, maxLength + 1);
            bool positive = b % 2 == 0;
            var text = Stream(rng, length, positive);
            for (int t = 0; t < length; t++) x[(b * maxLength + t) * Letters.Length + text[t] - 'a'] = 1f;
            labels[b] = positive ? 1f : 0f;
            lengths[b] = length;
        }
        return (new Tensor(x, n, maxLength, Letters.Length), new Tensor(labels, n), lengths);
    }

    private static char[] Stream(Random rng, int length, bool positive)
    {
        var text = new char[length];
        while (true)
        {
            for (int t = 0; t < length; t++) text[t] = Letters[rng.Next(Letters.Length)];
            if (positive || rng.Next(2) == 0)
            {
                int at = rng.Next(length - Word.Length + 1);
                Word.CopyTo(0, text, at, Word.Length);
                if (!positive)
                {
                    int k = rng.Next(Word.Length);
                    char c;
                    do c = Letters[rng.Next(Letters.Length)]; while (c == Word[k]);
                    text[at + k] = c;
                }
            }
            if (new string(text).Contains(Word, StringComparison.Ordinal) == positive) return text;
        }
    }

    /// <summary>
    /// Many-to-many: n series of v_t = sin(0.25 t + a) + 0.5 sin(0.7 t + b) + N(0, 0.05²) with random phases a, b;
    /// inputs [n, time, 1] are v_0 .. v_{time-1} and targets [n, time, 1] the next values v_1 .. v_time.
    /// </summary>
    public static (Tensor Inputs, Tensor Targets) NoisySines(Random rng, int n, int time = 50, double noise = 0.05)
    {
        var x = new float[n * time];
        var y = new float[n * time];
        var v = new double[time + 1];
        for (int b = 0; b < n; b++)
        {
            double a = rng.NextDouble() * 2 * Math.PI, c = rng.NextDouble() * 2 * Math.PI;
            for (int t = 0; t <= time; t++) v[t] = Math.Sin(0.25 * t + a) + 0.5 * Math.Sin(0.7 * t + c) + noise * Gaussian(rng);
            for (int t = 0; t < time; t++)
            {
                x[b * time + t] = (float)v[t];
                y[b * time + t] = (float)v[t + 1];
            }
        }
        return (new Tensor(x, n, time, 1), new Tensor(y, n, time, 1));
    }

    private static double Gaussian(Random rng) => Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());

    public static readonly string[] Determiners = ["the", "a", "one", "every"];
    public static readonly string[] Adjectives = ["big", "small", "red", "old", "quiet", "happy"];
    public static readonly string[] Nouns = ["cat", "dog", "bird", "fox", "horse", "mouse", "farmer", "child"];
    public static readonly string[] Verbs = ["sees", "likes", "chases", "finds", "follows", "watches", "helps", "hears"];

    /// <summary>
    /// One-to-many: <paramref name="sentences"/> lines of a toy grammar, "det [adj] noun verb det noun.",
    /// each word drawn uniformly (the adjective half the time).
    /// </summary>
    public static string Sentences(Random rng, int sentences)
    {
        var text = new StringBuilder();
        string Pick(string[] words) => words[rng.Next(words.Length)];
        for (int i = 0; i < sentences; i++)
        {
            text.Append(Pick(Determiners)).Append(' ');
            if (rng.Next(2) == 0) text.Append(Pick(Adjectives)).Append(' ');
            text.Append(Pick(Nouns)).Append(' ').Append(Pick(Verbs)).Append(' ').Append(Pick(Determiners)).Append(' ').Append(Pick(Nouns)).Append(".\n");
        }
        return text.ToString();
    }

    /// <summary>Whether a line is a sentence of the grammar.</summary>
    public static bool IsSentence(string line)
    {
        string Any(string[] words) => $"({string.Join('|', words)})";
        return System.Text.RegularExpressions.Regex.IsMatch(line,
            $"^{Any(Determiners)} ({Any(Adjectives)} )?{Any(Nouns)} {Any(Verbs)} {Any(Determiners)} {Any(Nouns)}\\.$");
    }

    public static IEnumerable<string> Vocabulary => Determiners.Concat(Adjectives).Concat(Nouns).Concat(Verbs);

    /// <summary>
    /// Encoder-decoder: n sequences of [minLength, maxLength] random digits, one-hot [n, maxLength, 10], and
    /// the same digits reversed as class ids [n, maxLength] (zeros past each length).
    /// </summary>
    public static (Tensor Digits, Tensor Reversed, int[] Lengths) DigitsToReverse(Random rng, int n, int minLength = 3, int maxLength = 8)
    {
        var x = new float[n * maxLength * 10];
        var y = new float[n * maxLength];
        var lengths = new int[n];
        for (int b = 0; b < n; b++)
        {
            int length = rng.Next(minLength, maxLength + 1);
            var digits = new int[length];
            for (int t = 0; t < length; t++) digits[t] = rng.Next(10);
            for (int t = 0; t < length; t++)
            {
                x[(b * maxLength + t) * 10 + digits[t]] = 1f;
                y[b * maxLength + t] = digits[length - 1 - t];
            }
            lengths[b] = length;
        }
        return (new Tensor(x, n, maxLength, 10), new Tensor(y, n, maxLength), lengths);
    }
}
