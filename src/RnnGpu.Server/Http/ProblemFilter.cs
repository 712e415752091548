namespace RnnGpu.Server.Http;

/// <summary>
/// Maps what the handlers, RnnGpu.Serving and the cluster's stream grains throw to problem details (<see cref="Problems"/>:
/// bad input 400, unknown stream 404, a stream of another model 409, overload 503), and a client that went away to 499.
/// Anything else reaches the exception handler as a 500.
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
        catch (Exception e) when (Problems.Of(e) is { } problem)
        {
            if (problem.Status == StatusCodes.Status503ServiceUnavailable) http.Response.Headers.RetryAfter = "1";
            return Results.Problem(e.Message, statusCode: problem.Status, title: problem.Title);
        }
        catch (OperationCanceledException) when (http.RequestAborted.IsCancellationRequested)
        {
            return Results.Problem("the client closed the request", statusCode: ClientClosedRequest, title: "Client closed request");
        }
    }
}
