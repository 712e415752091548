using RnnGpu.Text;
using Xunit;

namespace RnnGpu.Tests.Text;

public sealed class CharVocabularyTests
{
    [Fact]
    public void Built_from_a_text_it_holds_its_distinct_characters_in_ordinal_order()
    {
        var v = CharVocabulary.FromText("hello, world\n");
        Assert.Equal("\n ,dehlorw", v.Characters);
        Assert.Equal(10, v.Size);
        Assert.Equal(0, v.IndexOf('\n'));
        Assert.Equal('w', v[9]);
    }

    [Fact]
    public void Encode_and_decode_round_trip()
    {
        const string text = "The sea is calm.\nThe sky is clear!";
        var v = CharVocabulary.FromText(text);
        var ids = v.Encode(text);
        Assert.All(ids, id => Assert.InRange(id, 0, v.Size - 1));
        Assert.Equal(text, v.Decode(ids));
    }

    [Fact]
    public void An_unknown_character_is_named_with_its_position()
    {
        var v = CharVocabulary.FromText("abc");
        var e = Assert.Throws<ShapeException>(() => v.Encode("abz"));
        Assert.Contains("'z'", e.Message);
        Assert.Contains("position 2", e.Message);
        var nl = Assert.Throws<ShapeException>(() => v.IndexOf('\n'));
        Assert.Contains("\\n", nl.Message);
    }

    [Fact]
    public void Decode_refuses_ids_outside_the_vocabulary()
    {
        var v = CharVocabulary.FromText("ab");
        Assert.Throws<ShapeException>(() => v.Decode([0, 2]));
        Assert.Throws<ShapeException>(() => v.Decode([-1]));
    }

    [Fact]
    public void One_hot_batches_set_exactly_the_class_position()
    {
        var v = CharVocabulary.FromText("abc");
        var t = v.OneHot([2, 0, 1, 1, 0, 2], 2, 3);
        Assert.Equal([2, 3, 3], t.Shape);
        Assert.Equal(6f, t.Data.Sum());
        Assert.Equal(1f, t[0, 0, 2]);
        Assert.Equal(1f, t[0, 1, 0]);
        Assert.Equal(1f, t[1, 2, 2]);
        Assert.Equal(0f, t[1, 2, 0]);
    }

    [Fact]
    public void One_hot_checks_the_batch_shape()
    {
        var v = CharVocabulary.FromText("abc");
        Assert.Throws<ShapeException>(() => v.OneHot([0, 1, 2], 2, 2));
        Assert.Throws<ShapeException>(() => v.OneHot([0, 5], 1, 2));
    }

    [Fact]
    public void From_characters_keeps_the_order_and_refuses_duplicates()
    {
        Assert.Equal("cba", CharVocabulary.FromCharacters("cba").Characters);
        var e = Assert.Throws<ShapeException>(() => CharVocabulary.FromCharacters("abca"));
        Assert.Contains("'a'", e.Message);
        Assert.Throws<ShapeException>(() => CharVocabulary.FromCharacters(""));
        Assert.Throws<ShapeException>(() => CharVocabulary.FromText(""));
    }
}
