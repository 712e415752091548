using System.Net;
using System.Net.Http.Json;
using RnnGpu.Model;
using RnnGpu.Server.Http;
using RnnGpu.Tests.Support;

namespace RnnGpu.Tests.Server;

/// <summary>An LSTM served over HTTP: c beside h in predict's initial and final states and in a stream's state; misuse is a 400 naming the field.</summary>
[Collection(ServerCollection.Name)]
public sealed class CellStateTests
{
    private static readonly RnnConfig Lstm = new(InputSize: 3, HiddenSize: 6, NumLayers: 2, OutputSize: 2, Cell: CellKind.Lstm, ProjSize: 4);

    [Fact]
    public async Task Predict_takes_and_returns_h_and_c()
    {
        await using var served = await ServedModel.StartAsync(Lstm, seed: 3);
        var rng = new Random(4);
        var x = Numerics.Random(rng, 5 * Lstm.InputSize);
        var h0 = Numerics.Random(rng, 2 * Lstm.StateSize, 0.5f);
        var c0 = Numerics.Random(rng, 2 * Lstm.HiddenSize, 0.5f);
        using var response = await served.PostAsync("/v1/predict", new
        {
            input = Rows.Split(x, Lstm.InputSize), initialState = Rows.Split(h0, Lstm.StateSize), initialCellState = Rows.Split(c0, Lstm.HiddenSize),
        });
        var json = await ServedModel.OkJsonAsync(response);
        var expected = served.Reference.Forward(new Tensor(x, 1, 5, Lstm.InputSize), new Tensor(h0, 2, 1, Lstm.StateSize), initialCell: new Tensor(c0, 2, 1, Lstm.HiddenSize));
        Numerics.AssertClose(expected.Output.Data, ServedModel.Flatten(json.GetProperty("output")), 1e-5, 1e-6, "output");
        Numerics.AssertClose(expected.FinalState.Data, ServedModel.Flatten(json.GetProperty("finalState")), 1e-5, 1e-6, "finalState");
        Numerics.AssertClose(expected.FinalCell!.Data, ServedModel.Flatten(json.GetProperty("finalCellState")), 1e-5, 1e-6, "finalCellState");
        Assert.Equal(Lstm.StateSize, json.GetProperty("finalState")[0].GetArrayLength());
    }

    [Fact]
    public async Task A_stream_state_carries_c_and_a_restored_one_continues()
    {
        await using var served = await ServedModel.StartAsync(Lstm, seed: 5);
        var x = Numerics.Random(new Random(6), 4 * Lstm.InputSize);
        string a = await CreateAsync(served), b = await CreateAsync(served);
        using (var step = await served.PostAsync($"/v1/streams/{a}/step", new { input = Rows.Split(x, Lstm.InputSize) })) await ServedModel.OkJsonAsync(step);
        var state = await ServedModel.OkJsonAsync(await served.Client.GetAsync($"/v1/streams/{a}/state", ServedModel.Ct));
        var expected = served.Reference.Forward(new Tensor(x, 1, 4, Lstm.InputSize));
        Numerics.AssertClose(expected.FinalState.Data, ServedModel.Flatten(state.GetProperty("state")), 1e-5, 1e-6, "stream h");
        Numerics.AssertClose(expected.FinalCell!.Data, ServedModel.Flatten(state.GetProperty("cellState")), 1e-5, 1e-6, "stream c");

        var h = state.GetProperty("state").EnumerateArray().Select(ServedModel.Flatten).ToArray();
        var c = state.GetProperty("cellState").EnumerateArray().Select(ServedModel.Flatten).ToArray();
        using (var put = await served.Client.PutAsJsonAsync($"/v1/streams/{b}/state", new { state = h, cellState = c }, ServedModel.Ct))
            Assert.Equal(HttpStatusCode.NoContent, put.StatusCode);
        var next = Numerics.Random(new Random(7), 2 * Lstm.InputSize);
        Assert.Equal(await StepOutput(served, a, next), await StepOutput(served, b, next));

        using var missing = await served.Client.PutAsJsonAsync($"/v1/streams/{b}/state", new { state = h }, ServedModel.Ct);
        await ServedModel.AssertProblemAsync(missing, HttpStatusCode.BadRequest, "cellState");
    }

    [Fact]
    public async Task A_cell_state_for_a_model_without_one_is_refused()
    {
        await using var served = await ServedModel.StartAsync(new RnnConfig(3, 5, 1, OutputSize: 2, Cell: CellKind.Gru), seed: 2);
        using var response = await served.PostAsync("/v1/predict", new { input = new[] { new[] { 1f, 2f, 3f } }, initialCellState = new[] { new float[5] } });
        await ServedModel.AssertProblemAsync(response, HttpStatusCode.BadRequest, "'initialCellState' applies to an LSTM");
    }

    private static async Task<string> CreateAsync(ServedModel served)
    {
        using var response = await served.Client.PostAsync("/v1/streams", null, ServedModel.Ct);
        return (await ServedModel.OkJsonAsync(response)).GetProperty("id").GetString()!;
    }

    private static async Task<float[]> StepOutput(ServedModel served, string id, float[] x)
    {
        using var response = await served.PostAsync($"/v1/streams/{id}/step", new { input = Rows.Split(x, Lstm.InputSize) });
        return ServedModel.Flatten((await ServedModel.OkJsonAsync(response)).GetProperty("output"));
    }
}
