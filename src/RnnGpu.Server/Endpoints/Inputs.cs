using System.Text.Json;
using RnnGpu.Model;
using RnnGpu.Server.Http;

namespace RnnGpu.Server.Endpoints;

/// <summary>The matrices a request carries, checked against the served model's shape and the step limit.</summary>
public static class Inputs
{
    /// <summary>'input': [steps, I], 1 to <paramref name="maxSteps"/> steps.</summary>
    public static Matrix Sequence(JsonElement body, RnnConfig config, int maxSteps)
    {
        var input = Matrix.Read(body, "input", config.InputSize, "the model's input size", required: true)!;
        if (input.Rows > maxSteps)
            throw ApiException.BadRequest($"'input' has {input.Rows} steps, more than the limit of {maxSteps} (RnnServing:MaxSequenceLength)");
        return input;
    }

    /// <summary>A state field: h [<paramref name="rows"/>, S], or null when absent and optional.</summary>
    public static Matrix? State(JsonElement body, string name, RnnConfig config, int rows, string rowsMeaning, bool required) =>
        Rows(Matrix.Read(body, name, config.StateSize, config.ProjSize > 0 ? "the model's projection size" : "the model's hidden size", required),
            name, rows, rowsMeaning);

    /// <summary>
    /// An LSTM's cell-state field: c [<paramref name="rows"/>, H], required with <paramref name="required"/>; null when absent and
    /// optional. A model without a cell state refuses one.
    /// </summary>
    public static Matrix? CellState(JsonElement body, string name, RnnConfig config, int rows, string rowsMeaning, bool required)
    {
        if (!config.HasCellState)
        {
            if (body.ValueKind == JsonValueKind.Object && body.TryGetProperty(name, out _))
                throw ApiException.BadRequest($"'{name}' applies to an LSTM; the served model is a {config.Cell.ToName()}, which has no cell state");
            return null;
        }
        return Rows(Matrix.Read(body, name, config.HiddenSize, "the model's hidden size", required), name, rows, rowsMeaning);
    }

    private static Matrix? Rows(Matrix? state, string name, int rows, string rowsMeaning)
    {
        if (state is not null && state.Rows != rows)
            throw ApiException.BadRequest($"'{name}' has {state.Rows} rows, expected {rows} ({rowsMeaning})");
        return state;
    }
}
