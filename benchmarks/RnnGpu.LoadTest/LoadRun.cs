using System.Net.Http.Headers;
using Grpc.Net.Client;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Logging;
using RnnGpu.Server;
using RnnGpu.Server.Grpc;

namespace RnnGpu.LoadTest;

/// <summary>What one run measured: latencies sorted in ms, throughput, the mean batch, and each distinct body's single-request response.</summary>
public sealed record RunResult(string Transport, string Name, int MaxBatch, double Seconds, double[] LatenciesMs, double? MeanBatch, int Mismatches, string[] Alone)
{
    public double RequestsPerSecond => LatenciesMs.Length / Seconds;

    public double Percentile(double p) => LatenciesMs[(int)Math.Round(p * (LatenciesMs.Length - 1))];
}

/// <summary>
/// One run against a fresh server on loopback Kestrel sockets (<see cref="Measurement"/>): POST /v1/predict with JSON, or
/// the gRPC Predict call. A JSON response is compared with its reference as text (the shortest round-trip form of a float32
/// is unique, so equal text is equal bits), a gRPC one as the bits of its floats.
/// </summary>
public static class LoadRun
{
    public static async Task<RunResult> RunAsync(string transport, string name, int maxBatch, LoadOptions o, string checkpoint, Workload work,
        BatchSizeListener batches)
    {
        await using var app = ServerApp.Build(["--urls=http://127.0.0.1:0", "--RnnServer:GrpcUrl=http://127.0.0.1:0"], s =>
        {
            s.CheckpointPath = checkpoint;
            s.Backend = o.Backend;
            s.MaxBatch = maxBatch;
            s.MaxWait = TimeSpan.FromMicroseconds(o.MaxWaitUs);
            s.Executors = o.Executors;
            s.MaxSequenceLength = Math.Max(s.MaxSequenceLength, o.MaxSteps);
        }, b => b.Logging.ClearProviders());
        using var cap = new CancellationTokenSource(TimeSpan.FromSeconds(o.CapSeconds));
        await app.StartAsync(cap.Token);
        // The JSON endpoint first, then the gRPC one.
        if (transport == "grpc")
        {
            using var channel = GrpcChannel.ForAddress(app.Urls.Last(), new GrpcChannelOptions
            {
                HttpHandler = new SocketsHttpHandler { EnableMultipleHttp2Connections = true },
            });
            var client = new Rnn.RnnClient(channel);
            var requests = work.Inputs.Select(x =>
            {
                var r = new PredictRequest { Steps = x.Length / o.Input };
                r.Input.Add(x);
                return r;
            }).ToArray();
            return await Measurement.RunAsync(transport, name, maxBatch, o, requests.Length, async i =>
            {
                var reply = await client.PredictAsync(requests[i], cancellationToken: cap.Token);
                return Bits.Of(reply.Output, reply.FinalState);
            }, batches, cap);
        }
        using var http = new HttpClient { BaseAddress = new Uri(app.Urls.First()) };
        return await Measurement.RunAsync(transport, name, maxBatch, o, work.Bodies.Length, i => PostAsync(http, work.Bodies[i], cap.Token), batches, cap);
    }

    private static async Task<string> PostAsync(HttpClient client, byte[] body, CancellationToken ct)
    {
        using var content = new ByteArrayContent(body);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        using var response = await client.PostAsync("/v1/predict", content, ct);
        string text = await response.Content.ReadAsStringAsync(ct);
        return response.IsSuccessStatusCode ? text : throw new HttpRequestException($"HTTP {(int)response.StatusCode}: {text}");
    }
}
