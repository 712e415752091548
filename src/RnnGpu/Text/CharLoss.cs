using RnnGpu.Model;

namespace RnnGpu.Text;

/// <summary>
/// How well a character model predicts a text: the mean cross-entropy (nats per character) of each next character, over the
/// text cut into consecutive windows of <c>window</c> characters, each run from a zero state, in batches. The same windows
/// for every model, so models (a float32 one and its quantized forms) compare on equal terms.
/// </summary>
public static class CharLoss
{
    public static double Mean(RnnModel model, string text, int window = 100, int batch = 32)
    {
        if (model.Vocabulary is null) throw new ShapeException("the model has no vocabulary: it is not a character model");
        if (window < 1 || batch < 1) throw new ShapeException($"window {window} and batch {batch} must be at least 1");
        var vocabulary = CharVocabulary.FromCharacters(model.Vocabulary);
        if (model.Config.InputSize != vocabulary.Size || model.Config.OutputSize != vocabulary.Size || model.Config.ManyToOne)
            throw new ShapeException($"a character model of {vocabulary.Size} characters takes and predicts one-hot codes of {vocabulary.Size}");
        int[] ids = vocabulary.Encode(text);
        int windows = (ids.Length - 1) / window, v = vocabulary.Size;
        if (windows == 0) throw new ShapeException($"the text has {ids.Length} characters, fewer than one window of {window} + 1");
        double total = 0;
        for (int first = 0; first < windows; first += batch)
        {
            int rows = Math.Min(batch, windows - first);
            // The windows are consecutive: rows of them are one run of the ids.
            var logits = model.Forward(vocabulary.OneHot(ids.AsSpan(first * window, rows * window), rows, window)).Output.Data;
            for (int r = 0; r < rows; r++)
            for (int t = 0; t < window; t++)
            {
                var row = logits.AsSpan((r * window + t) * v, v);
                double max = double.NegativeInfinity, sum = 0;
                foreach (float z in row) max = Math.Max(max, z);
                foreach (float z in row) sum += Math.Exp(z - max);
                total += max + Math.Log(sum) - row[ids[(first + r) * window + t + 1]];
            }
        }
        return total / ((long)windows * window);
    }
}
