using System.Text.Json;
using RnnGpu.Server.Http;
using RnnGpu.Server.Streams;
using RnnGpu.Serving;

namespace RnnGpu.Server.Endpoints;

/// <summary>
/// Stateful streams: the server (or the cluster behind it, <see cref="IServedStreams"/>) keeps each stream's hidden state
/// between calls, so a client sends only the new steps. POST /v1/streams, POST /v1/streams/{id}/step (with an optional
/// "stepKey" that makes a retry safe in a cluster), GET|PUT /v1/streams/{id}/state, DELETE /v1/streams/{id}.
/// </summary>
public static class StreamEndpoints
{
    public static void Map(IEndpointRouteBuilder v1)
    {
        v1.MapPost("/streams", async (IServedStreams streams, HttpContext http) =>
        {
            string id = await streams.CreateAsync(http.RequestAborted);
            return Results.Created($"/v1/streams/{id}", new StreamCreated(id));
        });
        v1.MapPost("/streams/{id}/step", Step);
        v1.MapGet("/streams/{id}/state", async (string id, IServedStreams streams, RnnInference inference, HttpContext http) =>
        {
            var config = inference.Model.Config;
            var (h, c) = ServedState.Split(config, await streams.GetStateAsync(id, http.RequestAborted));
            return new StateResponse(Rows.Split(h, config.StateSize), c is null ? null : Rows.Split(c, config.HiddenSize));
        });
        v1.MapPut("/streams/{id}/state", SetState);
        v1.MapDelete("/streams/{id}", async (string id, IServedStreams streams, HttpContext http) =>
            await streams.DeleteAsync(id, http.RequestAborted) ? Results.NoContent() : throw new StreamNotFoundException(id));
    }

    private static async Task<StepResponse> Step(string id, HttpContext http, IServedStreams streams, RnnInference inference, ServerOptions server)
    {
        var ct = http.RequestAborted;
        using var body = await RequestBody.ReadJsonAsync(http.Request, server.MaxRequestBodyBytes, ct);
        var input = Inputs.Sequence(body.RootElement, inference.Model.Config, inference.Options.MaxSequenceLength);
        string? stepKey = null;
        if (body.RootElement.TryGetProperty("stepKey", out var key))
            stepKey = key.ValueKind == JsonValueKind.String && key.GetString() is { Length: > 0 } k ? k : throw ApiException.BadRequest("\"stepKey\" must be a non-empty string");
        var p = await streams.StepAsync(id, input.Data, input.Rows, stepKey, ct);
        return new StepResponse(Rows.Of(p.Output, p.OutputShape), p.ModelVersion);
    }

    private static async Task<IResult> SetState(string id, HttpContext http, IServedStreams streams, RnnInference inference, ServerOptions server)
    {
        using var body = await RequestBody.ReadJsonAsync(http.Request, server.MaxRequestBodyBytes, http.RequestAborted);
        var config = inference.Model.Config;
        var state = Inputs.State(body.RootElement, "state", config, config.NumLayers, "layers", required: true)!;
        var cell = Inputs.CellState(body.RootElement, "cellState", config, config.NumLayers, "layers", required: true);
        await streams.SetStateAsync(id, ServedState.Join(config, state.Data, cell?.Data, config.NumLayers)!, http.RequestAborted);
        return Results.NoContent();
    }
}
