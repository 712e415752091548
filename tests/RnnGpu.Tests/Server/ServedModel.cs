using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.Logging;
using RnnGpu.Accelerators.Cpu;
using RnnGpu.IO;
using RnnGpu.Model;
using RnnGpu.Server;
using RnnGpu.Server.Http;
using RnnGpu.Serving;

namespace RnnGpu.Tests.Server;

/// <summary>
/// The server hosted in-process on a test server, serving a model made from a seed and saved in a temp
/// directory, with the same model kept here on the CPU to compute the expected values.
/// </summary>
internal sealed class ServedModel : IAsyncDisposable
{
    private readonly CpuAccelerator _acc = new();
    private readonly string _dir = Directory.CreateTempSubdirectory("rnngpu-server-").FullName;

    private ServedModel(RnnConfig config, int seed)
    {
        Config = config;
        Reference = RnnModel.Create(config, _acc, seed);
        CheckpointPath = Path.Combine(_dir, "model.safetensors");
        Checkpoint.Save(Reference, CheckpointPath);
    }

    public RnnConfig Config { get; }
    public RnnModel Reference { get; private set; }
    public string CheckpointPath { get; }
    public WebApplication App { get; private set; } = null!;
    public HttpClient Client { get; private set; } = null!;

    public static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>Starts the server; <paramref name="args"/> are command-line settings such as "--RnnServer:MaxRequestBodyBytes=100".</summary>
    public static Task<ServedModel> StartAsync(RnnConfig config, int seed = 1, Action<RnnServingOptions>? configure = null, params string[] args) =>
        StartAsync(config, seed, configure, host: null, args);

    /// <summary>Starts the server with <paramref name="host"/> changing its builder too (other services, such as a cluster's streams).</summary>
    public static async Task<ServedModel> StartAsync(RnnConfig config, int seed, Action<RnnServingOptions>? configure, Action<WebApplicationBuilder>? host,
        params string[] args)
    {
        var served = new ServedModel(config, seed);
        served.App = ServerApp.Build(args, o =>
        {
            o.CheckpointPath = served.CheckpointPath;
            o.Backend = "cpu";
            configure?.Invoke(o);
        }, b =>
        {
            b.WebHost.UseTestServer();
            b.Logging.ClearProviders();
            host?.Invoke(b);
        });
        await served.App.StartAsync(Ct);
        served.Client = served.App.GetTestClient();
        return served;
    }

    /// <summary>Saves a model with other weights over the served checkpoint (atomically) and keeps it as the new reference.</summary>
    public RnnModel Replace(int seed)
    {
        var old = Reference;
        Reference = RnnModel.Create(Config, _acc, seed);
        Checkpoint.Save(Reference, CheckpointPath);
        return old;
    }

    /// <summary>The reference model's outputs and final state for one sequence x [T, I] from h0 [L * D, H] (zeros when null).</summary>
    public static (float[] Output, float[] FinalState) Forward(RnnModel model, float[] x, float[]? h0 = null)
    {
        var c = model.Config;
        int steps = x.Length / c.InputSize;
        var r = model.Forward(new Tensor(x, 1, steps, c.InputSize), h0 is null ? null : new Tensor(h0, c.NumLayers * c.Directions, 1, c.HiddenSize));
        return (r.Output.Data, r.FinalState.Data);
    }

    /// <summary>A gRPC client of the server's binary interface, over the test server.</summary>
    public RnnGpu.Server.Grpc.Rnn.RnnClient GrpcClient()
    {
        var server = App.GetTestServer();
        var channel = global::Grpc.Net.Client.GrpcChannel.ForAddress(server.BaseAddress, new global::Grpc.Net.Client.GrpcChannelOptions { HttpHandler = server.CreateHandler() });
        return new RnnGpu.Server.Grpc.Rnn.RnnClient(channel);
    }

    public Task<HttpResponseMessage> PostAsync(string path, object body) => Client.PostAsJsonAsync(path, body, Ct);

    /// <summary>POST /v1/predict of x [T, I] (and h0 [L * D, H]); the response's output, final state and model version.</summary>
    public async Task<Served> PredictAsync(float[] x, float[]? h0 = null)
    {
        var body = h0 is null
            ? (object)new { input = Rows.Split(x, Config.InputSize) }
            : new { input = Rows.Split(x, Config.InputSize), initialState = Rows.Split(h0, Config.HiddenSize) };
        using var response = await PostAsync("/v1/predict", body);
        var json = await OkJsonAsync(response);
        return new Served(Flatten(json.GetProperty("output")), Flatten(json.GetProperty("finalState")), json.GetProperty("modelVersion").GetInt64());
    }

    public static async Task<JsonElement> OkJsonAsync(HttpResponseMessage response)
    {
        string text = await response.Content.ReadAsStringAsync(Ct);
        Assert.True(response.IsSuccessStatusCode, $"{(int)response.StatusCode}: {text}");
        return JsonDocument.Parse(text).RootElement;
    }

    /// <summary>Asserts an RFC 7807 problem with this status whose detail contains <paramref name="problem"/>.</summary>
    public static async Task AssertProblemAsync(HttpResponseMessage response, HttpStatusCode status, string problem)
    {
        string text = await response.Content.ReadAsStringAsync(Ct);
        Assert.True(status == response.StatusCode, $"expected {(int)status}, got {(int)response.StatusCode}: {text}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        string detail = JsonDocument.Parse(text).RootElement.GetProperty("detail").GetString()!;
        Assert.Contains(problem, detail);
    }

    /// <summary>A number or nested arrays of numbers, flattened row-major.</summary>
    public static float[] Flatten(JsonElement e)
    {
        var values = new List<float>();
        void Walk(JsonElement x)
        {
            if (x.ValueKind == JsonValueKind.Array) foreach (var item in x.EnumerateArray()) Walk(item);
            else values.Add(x.GetSingle());
        }
        Walk(e);
        return [.. values];
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await App.DisposeAsync();
        Reference.Dispose();
        _acc.Dispose();
        Directory.Delete(_dir, recursive: true);
    }
}

/// <summary>One served prediction: output and final state flattened, and the model version that computed them.</summary>
internal sealed record Served(float[] Output, float[] FinalState, long ModelVersion);
