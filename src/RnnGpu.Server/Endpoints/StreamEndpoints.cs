using RnnGpu.Server.Http;
using RnnGpu.Serving;

namespace RnnGpu.Server.Endpoints;

/// <summary>
/// Stateful streams: the server keeps each stream's hidden state between calls, so a client sends only
/// the new steps. POST /v1/streams, POST /v1/streams/{id}/step, GET|PUT /v1/streams/{id}/state,
/// DELETE /v1/streams/{id}.
/// </summary>
public static class StreamEndpoints
{
    public static void Map(IEndpointRouteBuilder v1)
    {
        v1.MapPost("/streams", (RnnStreams streams) =>
        {
            string id = streams.Create();
            return Results.Created($"/v1/streams/{id}", new StreamCreated(id));
        });
        v1.MapPost("/streams/{id}/step", Step);
        v1.MapGet("/streams/{id}/state", (string id, RnnStreams streams, RnnInference inference) =>
        {
            var config = inference.Model.Config;
            var (h, c) = ServedState.Split(config, streams.GetState(id));
            return new StateResponse(Rows.Split(h, config.StateSize), c is null ? null : Rows.Split(c, config.HiddenSize));
        });
        v1.MapPut("/streams/{id}/state", SetState);
        v1.MapDelete("/streams/{id}", (string id, RnnStreams streams) =>
            streams.Delete(id) ? Results.NoContent() : throw new StreamNotFoundException(id));
    }

    private static async Task<StepResponse> Step(string id, HttpContext http, RnnStreams streams, RnnInference inference, ServerOptions server)
    {
        var ct = http.RequestAborted;
        using var body = await RequestBody.ReadJsonAsync(http.Request, server.MaxRequestBodyBytes, ct);
        var input = Inputs.Sequence(body.RootElement, inference.Model.Config, inference.Options.MaxSequenceLength);
        var p = await streams.StepAsync(id, input.Data, input.Rows, ct);
        return new StepResponse(Rows.Of(p.Output, p.OutputShape), p.ModelVersion);
    }

    private static async Task<IResult> SetState(string id, HttpContext http, RnnStreams streams, RnnInference inference, ServerOptions server)
    {
        using var body = await RequestBody.ReadJsonAsync(http.Request, server.MaxRequestBodyBytes, http.RequestAborted);
        var config = inference.Model.Config;
        var state = Inputs.State(body.RootElement, "state", config, config.NumLayers, "layers", required: true)!;
        var cell = Inputs.CellState(body.RootElement, "cellState", config, config.NumLayers, "layers", required: true);
        streams.SetState(id, ServedState.Join(config, state.Data, cell?.Data, config.NumLayers)!);
        return Results.NoContent();
    }
}
