using RnnGpu.Server.Http;
using RnnGpu.Serving;

namespace RnnGpu.Server.Endpoints;

/// <summary>
/// POST /v1/predict {"input": [steps][I], "initialState"?: [L * D][S], "initialCellState"?: [L * D][H] (LSTM)} →
/// {"output", "finalState", "finalCellState" (LSTM), "modelVersion"}.
/// </summary>
public static class PredictEndpoint
{
    public static void Map(IEndpointRouteBuilder v1) => v1.MapPost("/predict", Predict);

    private static async Task<PredictResponse> Predict(HttpContext http, RnnInference inference, ServerOptions server)
    {
        var ct = http.RequestAborted;
        using var body = await RequestBody.ReadJsonAsync(http.Request, server.MaxRequestBodyBytes, ct);
        var config = inference.Model.Config;
        var input = Inputs.Sequence(body.RootElement, config, inference.Options.MaxSequenceLength);
        int groups = config.NumLayers * config.Directions;
        var state = Inputs.State(body.RootElement, "initialState", config, groups, "layers x directions", required: false);
        var cell = Inputs.CellState(body.RootElement, "initialCellState", config, groups, "layers x directions", required: false);
        var p = await inference.PredictAsync(input.Data, input.Rows, ServedState.Join(config, state?.Data, cell?.Data, groups), ct);
        return new PredictResponse(Rows.Of(p.Output, p.OutputShape), Rows.Split(p.FinalState, p.StateShape[^1]), p.ModelVersion,
            p.FinalCell is { } c ? Rows.Split(c, config.HiddenSize) : null);
    }
}
