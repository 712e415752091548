using RnnGpu.Text;
using Xunit;

namespace RnnGpu.Tests.Text;

public sealed class CharBatcherTests
{
    private const string Text = "the quick brown fox jumps over the lazy dog\n";

    private static string InputText(CharVocabulary v, Tensor oneHot, int b)
    {
        int time = oneHot.Shape[1], size = oneHot.Shape[2];
        var ids = new int[time];
        for (int t = 0; t < time; t++)
        {
            var row = oneHot.Data.AsSpan((b * time + t) * size, size);
            Assert.Equal(1f, row.ToArray().Sum());
            ids[t] = row.IndexOf(1f);
        }
        return v.Decode(ids);
    }

    private static string TargetText(CharVocabulary v, Tensor target, int b)
    {
        int time = target.Shape[1];
        return v.Decode(target.Data.AsSpan(b * time, time).ToArray().Select(f => (int)f).ToArray());
    }

    [Fact]
    public void Targets_are_the_inputs_shifted_by_one_character()
    {
        var v = CharVocabulary.FromText(Text);
        var batcher = new CharBatcher(v, Text, batchSize: 3, sequenceLength: 8);
        var batch = batcher.Batch([0, 4, batcher.WindowCount - 1]);
        Assert.Equal([3, 8, v.Size], batch.Input.Shape);
        Assert.Equal([3, 8], batch.Target.Shape);
        Assert.Equal("the quic", InputText(v, batch.Input, 0));
        Assert.Equal("he quick", TargetText(v, batch.Target, 0));
        Assert.Equal("quick br", InputText(v, batch.Input, 1));
        Assert.Equal("uick bro", TargetText(v, batch.Target, 1));
        // The last window ends on the text's last character.
        Assert.Equal(Text[^9..^1], InputText(v, batch.Input, 2));
        Assert.Equal(Text[^8..], TargetText(v, batch.Target, 2));
    }

    [Fact]
    public void Random_batches_are_windows_of_the_text_and_repeat_with_the_seed()
    {
        var v = CharVocabulary.FromText(Text);
        var a = new CharBatcher(v, Text, 4, 10, seed: 7);
        var b = new CharBatcher(v, Text, 4, 10, seed: 7);
        for (int i = 0; i < 5; i++)
        {
            var x = a.Next();
            var y = b.Next();
            Assert.Equal(x.Input.Data, y.Input.Data);
            Assert.Equal(x.Target.Data, y.Target.Data);
            for (int row = 0; row < 4; row++)
            {
                string input = InputText(v, x.Input, row), target = TargetText(v, x.Target, row);
                Assert.Contains(input, Text);
                Assert.Equal(input[1..], target[..^1]);
                Assert.Contains(input + target[^1], Text);
            }
        }
        Assert.Equal(40, a.CharactersPerBatch);
    }

    [Fact]
    public void A_text_shorter_than_one_window_is_refused()
    {
        var v = CharVocabulary.FromText("abcdef");
        var e = Assert.Throws<ShapeException>(() => new CharBatcher(v, "abcdef", 2, 6));
        Assert.Contains("6 characters", e.Message);
        Assert.Equal(1, new CharBatcher(v, "abcdef", 2, 5).WindowCount);
    }

    [Fact]
    public void Bad_sizes_are_refused()
    {
        var v = CharVocabulary.FromText(Text);
        Assert.Throws<ShapeException>(() => new CharBatcher(v, Text, 0, 4));
        Assert.Throws<ShapeException>(() => new CharBatcher(v, Text, 2, 0));
        Assert.Throws<ShapeException>(() => new CharBatcher(v, Text, 2, 4).Batch([Text.Length]));
    }
}
