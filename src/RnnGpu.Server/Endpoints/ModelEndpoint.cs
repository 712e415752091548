using RnnGpu.Serving;

namespace RnnGpu.Server.Endpoints;

/// <summary>POST /v1/model/reload: re-reads the configured checkpoint; on failure the old model keeps serving.</summary>
public static class ModelEndpoint
{
    public static void Map(IEndpointRouteBuilder v1) => v1.MapPost("/model/reload", Reload);

    private static async Task<IResult> Reload(HttpContext http, RnnInference inference)
    {
        try
        {
            var m = await inference.ReloadAsync(http.RequestAborted);
            return Results.Ok(new ReloadResponse(m.Version, m.LoadedAt));
        }
        catch (RnnGpuException e)
        {
            // A bad file: the request was understood but the checkpoint cannot be served.
            return Failed(StatusCodes.Status422UnprocessableEntity, e, inference);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return Failed(StatusCodes.Status500InternalServerError, e, inference);
        }
    }

    private static IResult Failed(int status, Exception e, RnnInference inference) =>
        Results.Problem($"reload failed: {e.Message}; model version {inference.Model.Version} keeps serving",
            statusCode: status, title: "Reload failed");
}
