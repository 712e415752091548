using System.Net;
using RnnGpu.Accelerators;
using RnnGpu.Model;
using RnnGpu.Tests.Support;

namespace RnnGpu.Tests.Server;

[Collection(ServerCollection.Name)]
public sealed class ReloadTests
{
    private static readonly RnnConfig Config = new(InputSize: 4, HiddenSize: 6, NumLayers: 2, Activation.Tanh, OutputSize: 3);

    private static async Task<long> ReloadAsync(ServedModel served)
    {
        using var response = await served.Client.PostAsync("/v1/model/reload", null, ServedModel.Ct);
        return (await ServedModel.OkJsonAsync(response)).GetProperty("modelVersion").GetInt64();
    }

    [Fact]
    public async Task Reload_serves_the_weights_now_in_the_checkpoint()
    {
        await using var served = await ServedModel.StartAsync(Config, seed: 1);
        var x = Numerics.Random(new Random(1), 7 * Config.InputSize);
        var before = await served.PredictAsync(x);

        using var old = served.Replace(seed: 2);
        Assert.Equal(2, await ReloadAsync(served));

        var after = await served.PredictAsync(x);
        Assert.Equal(2, after.ModelVersion);
        Assert.NotEqual(before.Output, after.Output);
        Numerics.AssertClose(ServedModel.Forward(served.Reference, x).Output, after.Output, 1e-5, 1e-6, "output after reload");
    }

    [Fact]
    public async Task A_bad_checkpoint_is_refused_and_the_old_model_keeps_serving()
    {
        await using var served = await ServedModel.StartAsync(Config, seed: 1);
        var x = Numerics.Random(new Random(2), 5 * Config.InputSize);
        var before = await served.PredictAsync(x);

        await File.WriteAllBytesAsync(served.CheckpointPath, [1, 2, 3], ServedModel.Ct);
        using var response = await served.Client.PostAsync("/v1/model/reload", null, ServedModel.Ct);
        await ServedModel.AssertProblemAsync(response, HttpStatusCode.UnprocessableEntity, served.CheckpointPath);

        var after = await served.PredictAsync(x);
        Assert.Equal(1, after.ModelVersion);
        Assert.Equal(before.Output, after.Output);
    }

    [Fact]
    public async Task Predicts_during_a_reload_each_equal_the_old_or_the_new_models_result()
    {
        await using var served = await ServedModel.StartAsync(Config, seed: 1);
        var rng = new Random(3);
        var inputs = Enumerable.Range(0, 8).Select(_ => Numerics.Random(rng, rng.Next(1, 10) * Config.InputSize)).ToArray();
        var oldResults = new Served[inputs.Length];
        for (int i = 0; i < inputs.Length; i++) oldResults[i] = await served.PredictAsync(inputs[i]);

        using var old = served.Replace(seed: 2);
        var clients = Enumerable.Range(0, 8).Select(c => Task.Run(async () =>
        {
            var seen = new List<(int, Served)>();
            for (int k = 0; k < 12; k++)
            {
                int i = (c + k) % inputs.Length;
                seen.Add((i, await served.PredictAsync(inputs[i])));
            }
            return seen;
        }, ServedModel.Ct)).ToArray();
        await Task.Delay(5, ServedModel.Ct);
        Assert.Equal(2, await ReloadAsync(served));
        var results = (await Task.WhenAll(clients)).SelectMany(s => s).ToArray();

        var newResults = new Served[inputs.Length];
        for (int i = 0; i < inputs.Length; i++) newResults[i] = await served.PredictAsync(inputs[i]);
        Assert.NotEqual(oldResults[0].Output, newResults[0].Output);
        foreach (var (i, r) in results)
        {
            var expected = r.ModelVersion == 1 ? oldResults[i] : newResults[i];
            Assert.Equal(expected.ModelVersion, r.ModelVersion);
            Assert.Equal(expected.Output, r.Output);
            Assert.Equal(expected.FinalState, r.FinalState);
        }
    }
}
