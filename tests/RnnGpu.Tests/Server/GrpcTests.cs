using Grpc.Core;
using Microsoft.Extensions.DependencyInjection;
using RnnGpu.Model;
using RnnGpu.Orleans;
using RnnGpu.Server.Grpc;
using RnnGpu.Server.Http;
using RnnGpu.Server.Streams;
using RnnGpu.Serving;
using RnnGpu.Tests.Orleans;
using RnnGpu.Tests.Support;

namespace RnnGpu.Tests.Server;

/// <summary>
/// The gRPC interface: predictions and streams with packed floats give the JSON API's bits; bad input, unknown streams,
/// oversized messages and a key the server cannot honour are refused with their gRPC status and the problem's title; in
/// front of a cluster, the JSON and gRPC stream calls reach the cluster's stream grains.
/// </summary>
[Collection(ServerCollection.Name)]
public sealed class GrpcTests
{
    private static readonly RnnConfig Lstm = new(3, 8, 2, OutputSize: 2, Cell: CellKind.Lstm, ProjSize: 4);
    private static CancellationToken Ct => ServedModel.Ct;

    private static PredictRequest Request(float[] x, int steps, float[]? state = null)
    {
        var request = new PredictRequest { Steps = steps };
        request.Input.Add(x);
        if (state is not null) request.InitialState.Add(state);
        return request;
    }

    [Fact]
    public async Task A_prediction_over_grpc_has_the_json_apis_bits()
    {
        await using var served = await ServedModel.StartAsync(Lstm, seed: 3);
        var grpc = served.GrpcClient();
        var x = Numerics.Random(new Random(1), 7 * Lstm.InputSize);
        var h0 = Numerics.Random(new Random(2), RequestChecks.StateLength(Lstm), 0.5f);
        var reply = await grpc.PredictAsync(Request(x, 7, h0), cancellationToken: Ct);
        var expected = await served.App.Services.GetRequiredService<RnnInference>().PredictAsync(x, 7, h0, Ct);
        Assert.Equal(expected.Output, reply.Output);
        Assert.Equal([7, 2], reply.OutputShape);
        Assert.Equal(expected.FinalState, reply.FinalState);
        Assert.Equal([2, 4], reply.StateShape);
        Assert.Equal(expected.FinalCell!, reply.FinalCellState);
        var json = await served.PostAsync("/v1/predict", new { input = Rows.Split(x, Lstm.InputSize), initialState = Rows.Split(h0[..8], 4),
            initialCellState = Rows.Split(h0[8..], 8) });
        Assert.Equal(ServedModel.Flatten((await ServedModel.OkJsonAsync(json)).GetProperty("output")), reply.Output);
    }

    [Fact]
    public async Task Streams_over_grpc_step_in_chunks_to_the_whole_sequence_and_keep_their_state()
    {
        await using var served = await ServedModel.StartAsync(Lstm, seed: 4);
        var grpc = served.GrpcClient();
        var x = Numerics.Random(new Random(3), 9 * Lstm.InputSize);
        var whole = await grpc.PredictAsync(Request(x, 9), cancellationToken: Ct);
        string id = (await grpc.CreateStreamAsync(new CreateStreamRequest(), cancellationToken: Ct)).Id;
        var outputs = new List<float>();
        int done = 0;
        foreach (int k in new[] { 4, 1, 4 })
        {
            var step = new StepStreamRequest { Id = id, Steps = k };
            step.Input.Add(x[(done * Lstm.InputSize)..((done + k) * Lstm.InputSize)]);
            outputs.AddRange((await grpc.StepStreamAsync(step, cancellationToken: Ct)).Output);
            done += k;
        }
        Assert.Equal(whole.Output, outputs);
        var state = (await grpc.GetStreamStateAsync(new StreamRequest { Id = id }, cancellationToken: Ct)).State;
        Assert.Equal(whole.FinalState.Concat(whole.FinalCellState), state);

        var copy = (await grpc.CreateStreamAsync(new CreateStreamRequest(), cancellationToken: Ct)).Id;
        var set = new SetStreamStateRequest { Id = copy };
        set.State.Add(state);
        await grpc.SetStreamStateAsync(set, cancellationToken: Ct);
        Assert.Equal(state, (await grpc.GetStreamStateAsync(new StreamRequest { Id = copy }, cancellationToken: Ct)).State);
        await grpc.DeleteStreamAsync(new StreamRequest { Id = id }, cancellationToken: Ct);
        await AssertStatusAsync(StatusCode.NotFound, "Stream not found", $"no stream '{id}'", () => grpc.DeleteStreamAsync(new StreamRequest { Id = id }, cancellationToken: Ct).ResponseAsync);
    }

    [Fact]
    public async Task Bad_calls_get_their_grpc_status_the_message_and_the_problem()
    {
        await using var served = await ServedModel.StartAsync(Lstm, 5, null, "--RnnServer:MaxRequestBodyBytes=4000");
        var grpc = served.GrpcClient();
        var x = Numerics.Random(new Random(4), 5 * Lstm.InputSize);
        await AssertStatusAsync(StatusCode.InvalidArgument, "Bad request", "input has 15 values, expected 4 steps", () => grpc.PredictAsync(Request(x, 4), cancellationToken: Ct).ResponseAsync);
        x[3] = float.NaN;
        await AssertStatusAsync(StatusCode.InvalidArgument, "Bad request", "input holds a non-finite value (NaN) at row 1, column 0", () => grpc.PredictAsync(Request(x, 5), cancellationToken: Ct).ResponseAsync);
        await AssertStatusAsync(StatusCode.InvalidArgument, "Bad request", "initial state has 3 values", () => grpc.PredictAsync(Request(x[..3], 1, [0f, 0f, 0f]), cancellationToken: Ct).ResponseAsync);
        await AssertStatusAsync(StatusCode.InvalidArgument, "Bad request", "the service takes 1 to", () => grpc.PredictAsync(Request([], 0), cancellationToken: Ct).ResponseAsync);
        // 1,500 floats are 6,000 bytes, past the 4,000 the JSON API takes too.
        var big = await Assert.ThrowsAsync<RpcException>(() => grpc.PredictAsync(Request(new float[1500], 500), cancellationToken: Ct).ResponseAsync);
        Assert.Equal(StatusCode.ResourceExhausted, big.StatusCode);

        string id = (await grpc.CreateStreamAsync(new CreateStreamRequest(), cancellationToken: Ct)).Id;
        var keyed = new StepStreamRequest { Id = id, Steps = 1, StepKey = "k" };
        keyed.Input.Add(new float[3]);
        await AssertStatusAsync(StatusCode.InvalidArgument, "Bad request", "step keys need the cluster", () => grpc.StepStreamAsync(keyed, cancellationToken: Ct).ResponseAsync);
        await AssertStatusAsync(StatusCode.NotFound, "Stream not found", "no stream 'nope'", () => grpc.GetStreamStateAsync(new StreamRequest { Id = "nope" }, cancellationToken: Ct).ResponseAsync);
    }

    [Fact]
    public async Task In_front_of_a_cluster_json_and_grpc_streams_are_the_clusters()
    {
        await using var served = await ServedModel.StartAsync(Lstm, 6);
        await using var cluster = await StreamCluster.StartAsync(served.CheckpointPath, silos: 2);
        await using var front = await ServedModel.StartAsync(Lstm, 6, o => o.CheckpointPath = served.CheckpointPath,
            b => b.Services.AddSingleton<IServedStreams>(sp => new ClusterStreams(cluster.Client, sp.GetRequiredService<RnnInference>())));
        var grpc = front.GrpcClient();
        var x = Numerics.Random(new Random(5), 6 * Lstm.InputSize);
        var whole = await grpc.PredictAsync(Request(x, 6), cancellationToken: Ct);

        using var created = await front.Client.PostAsync("/v1/streams", null, Ct);
        string id = (await ServedModel.OkJsonAsync(created)).GetProperty("id").GetString()!;
        var first = await front.PostAsync($"/v1/streams/{id}/step", new { input = Rows.Split(x[..(2 * 3)], 3), stepKey = "a" });
        var firstOutput = ServedModel.Flatten((await ServedModel.OkJsonAsync(first)).GetProperty("output"));
        var rest = new StepStreamRequest { Id = id, Steps = 4, StepKey = "b" };
        rest.Input.Add(x[(2 * 3)..]);
        var second = await grpc.StepStreamAsync(rest, cancellationToken: Ct);
        var retried = await grpc.StepStreamAsync(rest, cancellationToken: Ct);
        Assert.Equal(second.Output, retried.Output);
        Assert.Equal(whole.Output, firstOutput.Concat(second.Output));

        // The state is the grain's, stored in the cluster.
        var grain = await cluster.Client.GetGrain<IRnnStreamGrain>(id).GetState();
        Assert.Equal(6, grain.Position);
        Assert.Equal(whole.FinalState.Concat(whole.FinalCellState), grain.State);
        var reused = new StepStreamRequest { Id = id, Steps = 4, StepKey = "b" };
        reused.Input.Add(new float[12]);
        await AssertStatusAsync(StatusCode.AlreadyExists, "Step key reused", "was used for another input", () => grpc.StepStreamAsync(reused, cancellationToken: Ct).ResponseAsync);
        using var gone = await front.Client.DeleteAsync($"/v1/streams/{id}", Ct);
        Assert.Equal(System.Net.HttpStatusCode.NoContent, gone.StatusCode);
        await ServedModel.AssertProblemAsync(await front.Client.GetAsync($"/v1/streams/{id}/state", Ct), System.Net.HttpStatusCode.NotFound, "start it first");
    }

    private static async Task AssertStatusAsync(StatusCode code, string title, string message, Func<Task> call)
    {
        var e = await Assert.ThrowsAsync<RpcException>(call);
        Assert.Equal(code, e.StatusCode);
        Assert.Contains(message, e.Status.Detail);
        Assert.Equal(title, e.Trailers.GetValue(GrpcProblemInterceptor.ProblemTrailer));
    }
}
