using System.Net;
using System.Net.Http.Json;
using RnnGpu.Accelerators;
using RnnGpu.Model;
using RnnGpu.Server.Http;
using RnnGpu.Tests.Support;

namespace RnnGpu.Tests.Server;

[Collection(ServerCollection.Name)]
public sealed class StreamTests
{
    private static readonly RnnConfig Config = new(InputSize: 3, HiddenSize: 8, NumLayers: 2, Activation.Tanh, OutputSize: 2);

    private static async Task<string> CreateAsync(ServedModel served)
    {
        using var response = await served.Client.PostAsync("/v1/streams", null, ServedModel.Ct);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        string id = (await ServedModel.OkJsonAsync(response)).GetProperty("id").GetString()!;
        Assert.Equal($"/v1/streams/{id}", response.Headers.Location?.OriginalString);
        return id;
    }

    private static async Task<float[]> StepAsync(ServedModel served, string id, float[] x)
    {
        using var response = await served.PostAsync($"/v1/streams/{id}/step", new { input = Rows.Split(x, Config.InputSize) });
        return ServedModel.Flatten((await ServedModel.OkJsonAsync(response)).GetProperty("output"));
    }

    private static async Task<float[][]> StateAsync(ServedModel served, string id)
    {
        var json = await ServedModel.OkJsonAsync(await served.Client.GetAsync($"/v1/streams/{id}/state", ServedModel.Ct));
        return json.GetProperty("state").EnumerateArray().Select(r => ServedModel.Flatten(r)).ToArray();
    }

    [Fact]
    public async Task Steps_in_chunks_equal_one_predict_over_the_whole_sequence()
    {
        await using var served = await ServedModel.StartAsync(Config, seed: 4);
        var x = Numerics.Random(new Random(5), 12 * Config.InputSize);
        var whole = await served.PredictAsync(x);

        string id = await CreateAsync(served);
        var outputs = new List<float>();
        int at = 0;
        foreach (int steps in new[] { 3, 1, 5, 3 })
        {
            outputs.AddRange(await StepAsync(served, id, x[(at * 3)..((at + steps) * 3)]));
            at += steps;
        }
        Numerics.AssertClose(whole.Output, outputs.ToArray(), 1e-5, 1e-6, "chunked stream outputs");
        var state = await StateAsync(served, id);
        Assert.Equal(Config.NumLayers, state.Length);
        Numerics.AssertClose(whole.FinalState, state.SelectMany(r => r).ToArray(), 1e-5, 1e-6, "stream state");
    }

    [Fact]
    public async Task A_state_saved_and_restored_into_another_stream_continues_identically()
    {
        await using var served = await ServedModel.StartAsync(Config, seed: 6);
        var rng = new Random(7);
        var first = Numerics.Random(rng, 4 * Config.InputSize);
        var next = Numerics.Random(rng, 5 * Config.InputSize);

        string a = await CreateAsync(served);
        await StepAsync(served, a, first);
        var saved = await StateAsync(served, a);

        string b = await CreateAsync(served);
        using (var put = await served.Client.PutAsJsonAsync($"/v1/streams/{b}/state", new { state = saved }, ServedModel.Ct))
            Assert.Equal(HttpStatusCode.NoContent, put.StatusCode);
        Assert.Equal(saved, await StateAsync(served, b));

        Assert.Equal(await StepAsync(served, a, next), await StepAsync(served, b, next));
        Assert.Equal(await StateAsync(served, a), await StateAsync(served, b));
    }

    [Fact]
    public async Task A_deleted_or_unknown_stream_is_404_naming_it()
    {
        await using var served = await ServedModel.StartAsync(Config);
        string id = await CreateAsync(served);
        using (var deleted = await served.Client.DeleteAsync($"/v1/streams/{id}", ServedModel.Ct))
            Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);

        await ServedModel.AssertProblemAsync(await served.Client.DeleteAsync($"/v1/streams/{id}", ServedModel.Ct), HttpStatusCode.NotFound, id);
        await ServedModel.AssertProblemAsync(await served.Client.GetAsync($"/v1/streams/{id}/state", ServedModel.Ct), HttpStatusCode.NotFound, id);
        await ServedModel.AssertProblemAsync(await served.PostAsync($"/v1/streams/{id}/step", new { input = new[] { new float[3] } }), HttpStatusCode.NotFound, id);
        await ServedModel.AssertProblemAsync(await served.Client.PutAsJsonAsync($"/v1/streams/nope/state", new { state = new float[2][] { new float[8], new float[8] } }, ServedModel.Ct), HttpStatusCode.NotFound, "nope");
    }

    [Fact]
    public async Task A_state_of_the_wrong_shape_is_400()
    {
        await using var served = await ServedModel.StartAsync(Config);
        string id = await CreateAsync(served);
        await ServedModel.AssertProblemAsync(await served.Client.PutAsJsonAsync($"/v1/streams/{id}/state", new { state = new[] { new float[8] } }, ServedModel.Ct),
            HttpStatusCode.BadRequest, "'state' has 1 rows, expected 2");
        await ServedModel.AssertProblemAsync(await served.Client.PutAsJsonAsync($"/v1/streams/{id}/state", new { state = new[] { new float[8], new float[7] } }, ServedModel.Ct),
            HttpStatusCode.BadRequest, "'state'[1] has 7 values, expected 8");
    }

    [Fact]
    public async Task Streams_over_the_limit_are_503()
    {
        await using var served = await ServedModel.StartAsync(Config, configure: o => o.MaxStreams = 2);
        await CreateAsync(served);
        await CreateAsync(served);
        using var third = await served.Client.PostAsync("/v1/streams", null, ServedModel.Ct);
        Assert.Equal("1", third.Headers.RetryAfter?.ToString());
        await ServedModel.AssertProblemAsync(third, HttpStatusCode.ServiceUnavailable, "2 streams are live");
    }

    [Fact]
    public async Task A_bidirectional_model_refuses_streams_with_400()
    {
        await using var served = await ServedModel.StartAsync(Config with { Bidirectional = true });
        using var response = await served.Client.PostAsync("/v1/streams", null, ServedModel.Ct);
        await ServedModel.AssertProblemAsync(response, HttpStatusCode.BadRequest, "unidirectional");
    }
}
