using Grpc.Core;
using Grpc.Core.Interceptors;
using RnnGpu.Server.Http;

namespace RnnGpu.Server.Grpc;

/// <summary>
/// The JSON API's refusals as gRPC statuses (<see cref="Problems"/>): the status code, the message as its detail, and the
/// problem's title in the "rnngpu-problem" trailer. A call the client cancelled is Cancelled.
/// </summary>
public sealed class GrpcProblemInterceptor : Interceptor
{
    public const string ProblemTrailer = "rnngpu-problem";

    public override async Task<TResponse> UnaryServerHandler<TRequest, TResponse>(TRequest request, ServerCallContext context,
        UnaryServerMethod<TRequest, TResponse> continuation)
    {
        try
        {
            return await continuation(request, context);
        }
        catch (Exception e) when (Problems.Of(e) is { } problem)
        {
            throw new RpcException(new Status(problem.Code, e.Message), new Metadata { { ProblemTrailer, problem.Title } });
        }
        catch (OperationCanceledException) when (context.CancellationToken.IsCancellationRequested)
        {
            throw new RpcException(new Status(StatusCode.Cancelled, "the client cancelled the call"));
        }
    }
}
