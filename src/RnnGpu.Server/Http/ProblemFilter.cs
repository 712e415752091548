using RnnGpu.Serving;

namespace RnnGpu.Server.Http;

/// <summary>
/// Maps what the handlers and RnnGpu.Serving throw to problem details: bad input 400, unknown stream 404,
/// overload 503, a client that went away 499. Anything else reaches the exception handler as a 500.
/// </summary>
public sealed class ProblemFilter : IEndpointFilter
{
    /// <summary>nginx's "client closed request": nobody reads it, but the logs and metrics show why the request ended.</summary>
    public const int ClientClosedRequest = 499;

    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        try
        {
            return await next(context);
        }
        catch (ApiException e)
        {
            return Results.Problem(e.Message, statusCode: e.Status, title: e.Title);
        }
        catch (ShapeException e)
        {
            return Results.Problem(e.Message, statusCode: StatusCodes.Status400BadRequest, title: "Bad request");
        }
        catch (StreamNotFoundException e)
        {
            return Results.Problem(e.Message, statusCode: StatusCodes.Status404NotFound, title: "Stream not found");
        }
        catch (ServingOverloadedException e)
        {
            http.Response.Headers.RetryAfter = "1";
            return Results.Problem(e.Message, statusCode: StatusCodes.Status503ServiceUnavailable, title: "Overloaded");
        }
        catch (OperationCanceledException) when (http.RequestAborted.IsCancellationRequested)
        {
            return Results.Problem("the client closed the request", statusCode: ClientClosedRequest, title: "Client closed request");
        }
    }
}
