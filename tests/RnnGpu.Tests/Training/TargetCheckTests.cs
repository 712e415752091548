using RnnGpu.Accelerators;
using RnnGpu.Model;
using RnnGpu.Training;

namespace RnnGpu.Tests.Training;

/// <summary>The vectorised finiteness checks of inputs and MSE targets find every bad value where the scalar loop did.</summary>
public sealed class TargetCheckTests
{
    [Theory]
    [InlineData(0, float.NaN)]
    [InlineData(15, float.PositiveInfinity)]
    [InlineData(16, float.NegativeInfinity)]
    [InlineData(37, float.NaN)]
    [InlineData(39, float.PositiveInfinity)]   // the scalar tail after the last full vector
    public void The_first_non_finite_value_is_found(int at, float bad)
    {
        var values = Enumerable.Range(0, 40).Select(i => i * 1e30f).ToArray();   // large but finite
        Assert.Equal(-1, Finite.FirstNonFinite(values));
        values[at] = bad;
        if (at + 1 < values.Length) values[^1] = float.NaN;   // a later one must not win
        Assert.Equal(at, Finite.FirstNonFinite(values));
    }

    [Fact]
    public void A_bad_mse_target_is_named_by_sequence_and_step_and_padding_is_not_checked()
    {
        using var acc = RnnGpu.Accelerators.Backends.Open("cpu");
        using var model = RnnModel.Create(new RnnConfig(2, 3, OutputSize: 5), acc, seed: 1);
        using var sgd = new Sgd(0.1f);
        var trainer = new Trainer(model, sgd, LossKind.Mse);
        var x = new Tensor(new float[3 * 4 * 2], 3, 4, 2);
        var y = new float[3 * 4 * 5];
        y[(1 * 4 + 2) * 5 + 3] = float.PositiveInfinity;   // sequence 1, step 2
        var e = Assert.Throws<ShapeException>(() => trainer.Step(x, new Tensor(y, 3, 4, 5)));
        Assert.Contains("non-finite value (Infinity) at [1, 2]", e.Message);

        trainer.Step(x, new Tensor(y, 3, 4, 5), lengths: [4, 2, 4]);   // step 2 of sequence 1 is padding: ignored
    }
}
