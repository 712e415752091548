using Grpc.Core;
using RnnGpu.Server.Streams;
using RnnGpu.Serving;

namespace RnnGpu.Server.Grpc;

/// <summary>
/// The gRPC interface (Protos/rnngpu.proto): /v1's operations with packed float payloads. Requests go through the same
/// RnnInference and streams as the JSON API, so they get the same validation, limits and bits; refusals become gRPC
/// statuses (<see cref="GrpcProblemInterceptor"/>).
/// </summary>
public sealed class RnnGrpcService(RnnInference inference, IServedStreams streams) : Rnn.RnnBase
{
    public override async Task<PredictReply> Predict(PredictRequest request, ServerCallContext context)
    {
        float[]? state = request.InitialState.Count > 0 ? [.. request.InitialState] : null;
        var p = await inference.PredictAsync([.. request.Input], request.Steps, state, context.CancellationToken);
        var reply = new PredictReply { ModelVersion = p.ModelVersion };
        reply.Output.Add(p.Output);
        reply.OutputShape.Add(p.OutputShape);
        reply.FinalState.Add(p.FinalState);
        reply.StateShape.Add(p.StateShape);
        if (p.FinalCell is { } c) reply.FinalCellState.Add(c);
        return reply;
    }

    public override async Task<CreateStreamReply> CreateStream(CreateStreamRequest request, ServerCallContext context) =>
        new() { Id = await streams.CreateAsync(context.CancellationToken) };

    public override async Task<StepStreamReply> StepStream(StepStreamRequest request, ServerCallContext context)
    {
        var step = await streams.StepAsync(request.Id, [.. request.Input], request.Steps, request.StepKey is { Length: > 0 } k ? k : null,
            context.CancellationToken);
        var reply = new StepStreamReply { ModelVersion = step.ModelVersion };
        reply.Output.Add(step.Output);
        reply.OutputShape.Add(step.OutputShape);
        return reply;
    }

    public override async Task<StreamStateReply> GetStreamState(StreamRequest request, ServerCallContext context)
    {
        var reply = new StreamStateReply();
        reply.State.Add(await streams.GetStateAsync(request.Id, context.CancellationToken));
        return reply;
    }

    public override async Task<StreamStateReply> SetStreamState(SetStreamStateRequest request, ServerCallContext context)
    {
        float[] state = [.. request.State];
        await streams.SetStateAsync(request.Id, state, context.CancellationToken);
        var reply = new StreamStateReply();
        reply.State.Add(state);
        return reply;
    }

    public override async Task<DeleteStreamReply> DeleteStream(StreamRequest request, ServerCallContext context) =>
        await streams.DeleteAsync(request.Id, context.CancellationToken) ? new DeleteStreamReply() : throw new StreamNotFoundException(request.Id);
}
