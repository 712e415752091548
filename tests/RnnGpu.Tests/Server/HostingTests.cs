using System.Net;
using System.Net.Http.Json;
using System.Text;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.Logging;
using RnnGpu.Accelerators;
using RnnGpu.Accelerators.Cpu;
using RnnGpu.IO;
using RnnGpu.Model;
using RnnGpu.Server;

namespace RnnGpu.Tests.Server;

[Collection(ServerCollection.Name)]
public sealed class HostingTests : IDisposable
{
    private static readonly RnnConfig Config = new(InputSize: 2, HiddenSize: 3, NumLayers: 1, Activation.Tanh, OutputSize: 1);

    private readonly string _dir = Directory.CreateTempSubdirectory("rnngpu-hosting-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string SaveModel()
    {
        string path = Path.Combine(_dir, "model.safetensors");
        using var acc = new CpuAccelerator();
        using var model = RnnModel.Create(Config, acc, seed: 1);
        Checkpoint.Save(model, path);
        return path;
    }

    [Fact]
    public void A_missing_checkpoint_fails_at_startup_naming_the_file()
    {
        string path = Path.Combine(_dir, "absent.safetensors");
        var e = Assert.ThrowsAny<RnnGpuException>(() => ServerApp.Build([], o => o.CheckpointPath = path));
        Assert.Contains(path, e.Message);
    }

    [Fact]
    public async Task Program_is_hosted_by_WebApplicationFactory_with_settings_from_configuration()
    {
        string path = SaveModel();
        await using var factory = new WebApplicationFactory<Program>().WithWebHostBuilder(b => b
            .UseSetting("RnnServing:CheckpointPath", path)
            .ConfigureLogging(l => l.ClearProviders()));
        using var client = factory.CreateClient();
        var health = await ServedModel.OkJsonAsync(await client.GetAsync("/health", ServedModel.Ct));
        Assert.Equal(2, health.GetProperty("config").GetProperty("inputSize").GetInt32());
    }

    [Fact]
    public async Task Kestrel_on_loopback_serves_json_and_grpc_and_refuses_a_chunked_body_over_the_limit()
    {
        string path = SaveModel();
        await using var app = ServerApp.Build(["--urls=http://127.0.0.1:0", "--RnnServer:GrpcUrl=http://127.0.0.1:0", "--RnnServer:MaxRequestBodyBytes=1000"],
            o => o.CheckpointPath = path, b => b.Logging.ClearProviders());
        await app.StartAsync(ServedModel.Ct);
        // The JSON endpoint, then the gRPC one (HTTP/2 without TLS: an endpoint of its own).
        Assert.Equal(2, app.Urls.Count);
        string url = app.Urls.First();
        Assert.StartsWith("http://127.0.0.1:", url);
        using var channel = Grpc.Net.Client.GrpcChannel.ForAddress(app.Urls.Last());
        var request = new RnnGpu.Server.Grpc.PredictRequest { Steps = 1 };
        request.Input.Add([1f, 2f]);
        var reply = await new RnnGpu.Server.Grpc.Rnn.RnnClient(channel).PredictAsync(request, cancellationToken: ServedModel.Ct);
        using var client = new HttpClient { BaseAddress = new Uri(url) };

        using var ok = await client.PostAsJsonAsync("/v1/predict", new { input = new[] { new[] { 1f, 2f } } }, ServedModel.Ct);
        Assert.Equal(reply.Output, ServedModel.Flatten((await ServedModel.OkJsonAsync(ok)).GetProperty("output")));

        string big = """{"input": [""" + string.Join(",", Enumerable.Repeat("[0.25, 0.25]", 200)) + "]}";
        using var chunked = await client.PostAsync("/v1/predict", new ChunkedJson(big), ServedModel.Ct);
        await ServedModel.AssertProblemAsync(chunked, HttpStatusCode.RequestEntityTooLarge, "larger than 1000 bytes");
        using var declared = await client.PostAsync("/v1/predict", new StringContent(big, Encoding.UTF8, "application/json"), ServedModel.Ct);
        await ServedModel.AssertProblemAsync(declared, HttpStatusCode.RequestEntityTooLarge, "larger than 1000 bytes");
    }
}
