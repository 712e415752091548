using RnnGpu.Accelerators;
using RnnGpu.Model;
using RnnGpu.Tests.Support;

namespace RnnGpu.Tests.Model;

/// <summary>Forward into a caller's reused output tensor gives what the allocating Forward gives.</summary>
public sealed class ForwardIntoTests
{
    public static TheoryData<string> Backends => TestBackends.Names;

    [Theory]
    [MemberData(nameof(Backends))]
    public void A_reused_output_equals_a_fresh_one(string backend)
    {
        using var acc = TestBackends.Open(backend);
        using var model = RnnModel.Create(new RnnConfig(3, 6, 2, OutputSize: 2), acc, seed: 4);
        var rng = new Random(6);
        var x = new Tensor(Numerics.Random(rng, 4 * 5 * 3), 4, 5, 3);
        var output = new Tensor(Enumerable.Repeat(7f, 4 * 5 * 2).ToArray(), 4, 5, 2);   // stale values must not survive
        foreach (int[]? lengths in new[] { null, new[] { 5, 2, 4, 1 } })
        {
            var expected = model.Forward(x, lengths: lengths);
            var final = model.ForwardInto(x, output, lengths: lengths);
            Assert.Equal(expected.Output.Data, output.Data);
            Assert.Equal(expected.FinalState.Data, final.FinalState.Data);
            Assert.Same(output, final.Output);
        }
    }

    [Fact]
    public void Many_to_one_and_a_wrong_shape()
    {
        using var acc = RnnGpu.Accelerators.Backends.Open("cpu");
        using var model = RnnModel.Create(new RnnConfig(3, 6, OutputSize: 2, HeadInput: HeadInput.FinalState), acc, seed: 1);
        var x = new Tensor(Numerics.Random(new Random(2), 2 * 4 * 3), 2, 4, 3);
        var output = new Tensor(new float[4], 2, 2);
        model.ForwardInto(x, output, lengths: [4, 3]);
        Assert.Equal(model.Forward(x, lengths: [4, 3]).Output.Data, output.Data);
        var wrong = new Tensor(new float[16], 2, 4, 2);
        Assert.Contains("expected [2, 2]", Assert.Throws<ShapeException>(() => model.ForwardInto(x, wrong)).Message);
    }
}
