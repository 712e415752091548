namespace RnnGpu.Server.Http;

/// <summary>A request the service refuses, with the HTTP status and the problem in words; ProblemFilter turns it into RFC 7807 details.</summary>
public sealed class ApiException(int status, string title, string detail) : Exception(detail)
{
    public int Status { get; } = status;
    public string Title { get; } = title;

    public static ApiException BadRequest(string detail) => new(StatusCodes.Status400BadRequest, "Bad request", detail);
}
