using Grpc.Core;
using RnnGpu.Orleans;
using RnnGpu.Serving;

namespace RnnGpu.Server.Http;

/// <summary>
/// What each refusal the service knows is called, on both interfaces: the HTTP status and title of its problem details, and
/// the gRPC status code. Anything else is an internal error.
/// </summary>
public static class Problems
{
    public sealed record Problem(int Status, string Title, StatusCode Code);

    public static Problem? Of(Exception e) => e switch
    {
        ApiException a => new(a.Status, a.Title, a.Status == StatusCodes.Status413PayloadTooLarge ? StatusCode.ResourceExhausted : StatusCode.InvalidArgument),
        ShapeException => new(StatusCodes.Status400BadRequest, "Bad request", StatusCode.InvalidArgument),
        StreamNotFoundException => new(StatusCodes.Status404NotFound, "Stream not found", StatusCode.NotFound),
        ServingOverloadedException => new(StatusCodes.Status503ServiceUnavailable, "Overloaded", StatusCode.Unavailable),
        StreamGrainException g => g.Problem switch
        {
            StreamProblem.NotFound => new(StatusCodes.Status404NotFound, "Stream not found", StatusCode.NotFound),
            StreamProblem.BadInput => new(StatusCodes.Status400BadRequest, "Bad request", StatusCode.InvalidArgument),
            StreamProblem.StateMismatch => new(StatusCodes.Status409Conflict, "Stream of another model", StatusCode.FailedPrecondition),
            StreamProblem.CorruptState => new(StatusCodes.Status409Conflict, "Stored stream state damaged", StatusCode.DataLoss),
            StreamProblem.StepKeyReused => new(StatusCodes.Status409Conflict, "Step key reused", StatusCode.AlreadyExists),
            StreamProblem.Overloaded => new(StatusCodes.Status503ServiceUnavailable, "Overloaded", StatusCode.Unavailable),
            _ => new(StatusCodes.Status503ServiceUnavailable, "Stream storage unavailable", StatusCode.Unavailable),
        },
        _ => null,
    };
}
