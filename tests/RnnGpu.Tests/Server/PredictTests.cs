using RnnGpu.Accelerators;
using RnnGpu.Model;
using RnnGpu.Tests.Support;

namespace RnnGpu.Tests.Server;

[Collection(ServerCollection.Name)]
public sealed class PredictTests
{
    private static readonly RnnConfig Config = new(InputSize: 5, HiddenSize: 7, NumLayers: 2, Activation.Tanh, OutputSize: 3);

    [Fact]
    public async Task Predict_equals_the_models_own_forward_and_repeats_bit_for_bit()
    {
        await using var served = await ServedModel.StartAsync(Config, seed: 3);
        var rng = new Random(1);
        var x = Numerics.Random(rng, 9 * Config.InputSize);
        var h0 = Numerics.Random(rng, Config.NumLayers * Config.HiddenSize);

        foreach (var state in new[] { null, h0 })
        {
            var expected = ServedModel.Forward(served.Reference, x, state);
            var first = await served.PredictAsync(x, state);
            Numerics.AssertClose(expected.Output, first.Output, 1e-5, 1e-6, "served output");
            Numerics.AssertClose(expected.FinalState, first.FinalState, 1e-5, 1e-6, "served final state");
            Assert.Equal(1, first.ModelVersion);

            var again = await served.PredictAsync(x, state);
            Assert.Equal(first.Output, again.Output);
            Assert.Equal(first.FinalState, again.FinalState);
        }
    }

    [Fact]
    public async Task Predict_returns_steps_rows_of_outputs_and_layer_rows_of_state()
    {
        await using var served = await ServedModel.StartAsync(Config);
        using var response = await served.PostAsync("/v1/predict", new { input = new float[4][].Select(_ => new float[5]).ToArray() });
        var json = await ServedModel.OkJsonAsync(response);
        Assert.Equal(4, json.GetProperty("output").GetArrayLength());
        Assert.Equal(3, json.GetProperty("output")[0].GetArrayLength());
        Assert.Equal(2, json.GetProperty("finalState").GetArrayLength());
        Assert.Equal(7, json.GetProperty("finalState")[0].GetArrayLength());
    }

    [Fact]
    public async Task A_many_to_one_bidirectional_model_returns_one_output_row_per_sequence()
    {
        var config = new RnnConfig(4, 6, 1, Activation.Relu, OutputSize: 2, Bidirectional: true, HeadInput: HeadInput.FinalState);
        await using var served = await ServedModel.StartAsync(config, seed: 5);
        var x = Numerics.Random(new Random(2), 6 * config.InputSize);
        var h0 = Numerics.Random(new Random(3), 2 * config.HiddenSize);

        var expected = ServedModel.Forward(served.Reference, x, h0);
        var result = await served.PredictAsync(x, h0);
        Assert.Equal(2, result.Output.Length);
        Numerics.AssertClose(expected.Output, result.Output, 1e-5, 1e-6, "many-to-one output");
        Numerics.AssertClose(expected.FinalState, result.FinalState, 1e-5, 1e-6, "bidirectional final state");
    }

    [Fact]
    public async Task Health_reports_the_model_version_backend_shape_and_streams()
    {
        await using var served = await ServedModel.StartAsync(Config);
        using var created = await served.Client.PostAsync("/v1/streams", null, ServedModel.Ct);
        var json = await ServedModel.OkJsonAsync(await served.Client.GetAsync("/health", ServedModel.Ct));
        Assert.Equal("ok", json.GetProperty("status").GetString());
        Assert.Equal(1, json.GetProperty("modelVersion").GetInt64());
        Assert.Equal("cpu", json.GetProperty("backend").GetString());
        Assert.False(string.IsNullOrEmpty(json.GetProperty("device").GetString()));
        Assert.Equal(1, json.GetProperty("streams").GetInt32());
        var c = json.GetProperty("config");
        Assert.Equal(5, c.GetProperty("inputSize").GetInt32());
        Assert.Equal(7, c.GetProperty("hiddenSize").GetInt32());
        Assert.Equal(2, c.GetProperty("numLayers").GetInt32());
        Assert.Equal(3, c.GetProperty("outputWidth").GetInt32());
        Assert.Equal("tanh", c.GetProperty("nonlinearity").GetString());
        Assert.False(c.GetProperty("manyToOne").GetBoolean());
        Assert.False(c.GetProperty("bidirectional").GetBoolean());
    }
}
