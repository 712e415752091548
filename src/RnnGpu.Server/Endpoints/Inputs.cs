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

    /// <summary>A state field: [<paramref name="rows"/>, H], or null when absent and optional.</summary>
    public static Matrix? State(JsonElement body, string name, RnnConfig config, int rows, string rowsMeaning, bool required)
    {
        var state = Matrix.Read(body, name, config.HiddenSize, "the model's hidden size", required);
        if (state is not null && state.Rows != rows)
            throw ApiException.BadRequest($"'{name}' has {state.Rows} rows, expected {rows} ({rowsMeaning})");
        return state;
    }
}
