using System.Net;
using System.Text;
using RnnGpu.Accelerators;
using RnnGpu.Model;

namespace RnnGpu.Tests.Server;

/// <summary>One server for all the error cases: input size 3, 2 layers of 4 hidden units, at most 8 steps and 2,000 bytes of body.</summary>
public sealed class ErrorServer : IAsyncLifetime
{
    private static readonly RnnConfig Config = new(InputSize: 3, HiddenSize: 4, NumLayers: 2, Activation.Tanh, OutputSize: 2);

    internal ServedModel Served { get; private set; } = null!;

    public async ValueTask InitializeAsync() =>
        Served = await ServedModel.StartAsync(Config, configure: o => o.MaxSequenceLength = 8, args: "--RnnServer:MaxRequestBodyBytes=2000");

    public ValueTask DisposeAsync() => Served.DisposeAsync();
}

[Collection(ServerCollection.Name)]
public sealed class ErrorTests(ErrorServer server) : IClassFixture<ErrorServer>
{
    private readonly ServedModel _served = server.Served;

    private static StringContent Json(string body) => new(body, Encoding.UTF8, "application/json");

    public static TheoryData<string, string> BadBodies => new()
    {
        { """{"input": [[1, 2, 3]""", "the body is not valid JSON" },
        { "", "the body is not valid JSON" },
        { "[[1, 2, 3]]", "the body must be a JSON object, not an array" },
        { "{}", "missing field 'input'" },
        { """{"input": null}""", "missing field 'input'" },
        { """{"input": "1,2,3"}""", "'input' must be an array of rows, not a string" },
        { """{"input": []}""", "'input' has no rows" },
        { """{"input": [1, 2, 3]}""", "'input'[0] must be an array of 3 numbers, not a number" },
        { """{"input": [[1, 2, 3], [1, 2]]}""", "'input'[1] has 2 values, expected 3 (the model's input size)" },
        { """{"input": [[1, 2, 3, 4]]}""", "'input'[0] has 4 values, expected 3" },
        { """{"input": [[1, "2", 3]]}""", "'input'[0][1] must be a number, not a string" },
        { """{"input": [[1, 2, null]]}""", "'input'[0][2] must be a number, not null" },
        { """{"input": [[1, 1e40, 3]]}""", "'input'[0][1] = 1e40 is not a finite 32-bit float" },
        { """{"input": [[1, 2, -1e400]]}""", "'input'[0][2] = -1e400 is not a finite 32-bit float" },
        { """{"input": [[1,2,3],[1,2,3],[1,2,3],[1,2,3],[1,2,3],[1,2,3],[1,2,3],[1,2,3],[1,2,3]]}""", "'input' has 9 steps, more than the limit of 8" },
        { """{"input": [[1, 2, 3]], "initialState": [[0, 0, 0, 0]]}""", "'initialState' has 1 rows, expected 2 (layers x directions)" },
        { """{"input": [[1, 2, 3]], "initialState": [[0, 0, 0, 0], [0, 0, 0]]}""", "'initialState'[1] has 3 values, expected 4 (the model's hidden size)" },
        { """{"input": [[1, 2, 3]], "initialState": [[0, 0, 0, 0], [0, 0, 1e39, 0]]}""", "'initialState'[1][2] = 1e39 is not a finite 32-bit float" },
    };

    [Theory]
    [MemberData(nameof(BadBodies))]
    public async Task A_bad_predict_body_is_400_naming_the_problem(string body, string problem)
    {
        using var response = await _served.Client.PostAsync("/v1/predict", Json(body), ServedModel.Ct);
        await ServedModel.AssertProblemAsync(response, HttpStatusCode.BadRequest, problem);
    }

    [Fact]
    public async Task A_bad_stream_step_body_is_400_naming_the_problem()
    {
        using var created = await _served.Client.PostAsync("/v1/streams", null, ServedModel.Ct);
        string id = (await ServedModel.OkJsonAsync(created)).GetProperty("id").GetString()!;
        using var response = await _served.Client.PostAsync($"/v1/streams/{id}/step", Json("""{"input": [[1, 2]]}"""), ServedModel.Ct);
        await ServedModel.AssertProblemAsync(response, HttpStatusCode.BadRequest, "'input'[0] has 2 values, expected 3");
    }

    [Fact]
    public async Task A_body_over_the_limit_is_413_with_or_without_a_content_length()
    {
        string big = """{"input": [""" + string.Join(",", Enumerable.Repeat("[0.5, 0.5, 0.5]", 200)) + "]}";
        Assert.True(Encoding.UTF8.GetByteCount(big) > 2000);

        using var declared = await _served.Client.PostAsync("/v1/predict", Json(big), ServedModel.Ct);
        await ServedModel.AssertProblemAsync(declared, HttpStatusCode.RequestEntityTooLarge, "larger than 2000 bytes");

        using var chunked = await _served.Client.PostAsync("/v1/predict", new ChunkedJson(big), ServedModel.Ct);
        await ServedModel.AssertProblemAsync(chunked, HttpStatusCode.RequestEntityTooLarge, "larger than 2000 bytes");
    }

    [Fact]
    public async Task A_body_under_the_limit_without_a_content_length_is_served()
    {
        using var response = await _served.Client.PostAsync("/v1/predict", new ChunkedJson("""{"input": [[1, 2, 3]]}"""), ServedModel.Ct);
        Assert.Equal(1, (await ServedModel.OkJsonAsync(response)).GetProperty("modelVersion").GetInt64());
    }
}
