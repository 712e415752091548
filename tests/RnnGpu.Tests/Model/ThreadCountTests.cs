using RnnGpu.Accelerators;
using RnnGpu.Accelerators.Cpu;
using RnnGpu.Model;
using RnnGpu.Tests.Kernels;
using RnnGpu.Tests.Support;
using RnnGpu.Training;

namespace RnnGpu.Tests.Model;

/// <summary>
/// The CPU back end splits its work by rows and columns, never along a sum, so a model trains and runs to the same
/// bits on any number of threads: a service's answers do not change with the cores it is given.
/// </summary>
[Collection(nameof(CpuTeamTests))]   // the team's tuner is process-wide: no other team test alongside
public sealed class ThreadCountTests
{
    [Theory]
    [InlineData(false, 0)]
    [InlineData(true, 5)]
    public void Training_and_inference_give_the_same_bits_on_one_two_or_three_threads(bool bidirectional, int output)
    {
        // Large enough that every GEMM, the recurrences, the copies and the elementwise passes run on the team.
        const int batch = 48, time = 30, input = 40, hidden = 200;
        var config = new RnnConfig(input, hidden, NumLayers: 2, OutputSize: output, Bidirectional: bidirectional);
        var rng = new Random(21);
        var x = new Tensor(Numerics.Random(rng, batch * time * input), batch, time, input);
        int width = output > 0 ? output : config.Directions * hidden;
        var y = new Tensor(Numerics.Random(rng, batch * time * width), batch, time, width);
        var lengths = Enumerable.Range(0, batch).Select(b => 1 + (b * 7) % time).ToArray();

        (double[] Losses, float[] Output, Dictionary<string, float[]> Weights) Run(int threads)
        {
            TeamHealth.Forget();
            using var acc = new CpuAccelerator(threads);
            using var model = RnnModel.Create(config, acc, seed: 4);
            using var adam = new Adam(0.01f);
            var trainer = new Trainer(model, adam, LossKind.Mse, seed: 6);
            var losses = Enumerable.Range(0, 3).Select(_ => trainer.Step(x, y, lengths: lengths).Loss).ToArray();
            var weights = model.StateDict().ToDictionary(p => p.Key, p => p.Value.Data.ToArray());
            return (losses, model.Forward(x, lengths: lengths).Output.Data.ToArray(), weights);
        }

        var alone = Run(1);
        foreach (int threads in new[] { 2, 3 })
        {
            var team = Run(threads);
            Assert.Equal(alone.Losses, team.Losses);
            Assert.Equal(alone.Output, team.Output);
            foreach (var (name, w) in alone.Weights) Assert.Equal(w, team.Weights[name]);
        }
        Assert.NotEqual(alone.Losses[0], alone.Losses[2]);   // the steps trained: the weights compared are not the initial ones
    }
}
