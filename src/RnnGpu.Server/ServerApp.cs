using Microsoft.AspNetCore.Server.Kestrel.Core;
using RnnGpu.Server.Endpoints;
using RnnGpu.Server.Grpc;
using RnnGpu.Server.Http;
using RnnGpu.Server.Streams;
using RnnGpu.Serving;

namespace RnnGpu.Server;

/// <summary>Builds the HTTP and gRPC service around RnnGpu.Serving, for Program, the tests and the load test alike.</summary>
public static class ServerApp
{
    /// <summary>Loopback only unless configured otherwise: the service has no authentication.</summary>
    public const string DefaultUrl = "http://127.0.0.1:5088";

    /// <summary>
    /// The configured app, its model already loaded (a missing or bad checkpoint throws here, not on the
    /// first request). <paramref name="configure"/> runs after the "RnnServing" section is bound;
    /// <paramref name="host"/> can change the builder before it is built (a test server, logging).
    /// </summary>
    public static WebApplication Build(string[] args, Action<RnnServingOptions>? configure = null, Action<WebApplicationBuilder>? host = null)
    {
        // appsettings.json beside the assembly, wherever the service is started from; relative paths in it are the caller's.
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
        var server = builder.Configuration.GetSection(ServerOptions.Section).Get<ServerOptions>() ?? new ServerOptions();
        builder.Services.AddSingleton(server);
        var http = Endpoint.Parse(builder.Configuration["urls"] ?? DefaultUrl, "urls");
        var grpc = server.GrpcUrl is { Length: > 0 } g ? Endpoint.Parse(g, $"{ServerOptions.Section}:GrpcUrl") : [];
        builder.WebHost.ConfigureKestrel(k =>
        {
            // Kestrel's own limit as well, so that an oversized body is cut off while it streams in.
            k.Limits.MaxRequestBodySize = server.MaxRequestBodyBytes;
            foreach (var e in http) e.Listen(k, HttpProtocols.Http1AndHttp2);
            foreach (var e in grpc) e.Listen(k, HttpProtocols.Http2);
        });

        var section = builder.Configuration.GetSection("RnnServing");
        builder.Services.AddRnnServing(o =>
        {
            section.Bind(o);
            configure?.Invoke(o);
        });
        builder.Services.AddSingleton<IServedStreams, LocalStreams>();
        ClusterHosting.Configure(builder, builder.Configuration.GetSection(ClusterOptions.Section).Get<ClusterOptions>() ?? new ClusterOptions());
        builder.Services.AddGrpc(o =>
        {
            o.MaxReceiveMessageSize = (int)Math.Min(server.MaxRequestBodyBytes, int.MaxValue);
            o.Interceptors.Add<GrpcProblemInterceptor>();
        });
        builder.Services.AddProblemDetails();
        // A model with relu can overflow to infinity; send that as "Infinity" rather than fail the response.
        builder.Services.ConfigureHttpJsonOptions(j => j.SerializerOptions.NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals);
        host?.Invoke(builder);

        var app = builder.Build();
        app.Services.GetRequiredService<RnnInference>();
        app.UseExceptionHandler();
        app.UseStatusCodePages();

        HealthEndpoint.Map(app);
        var v1 = app.MapGroup("/v1").AddEndpointFilter<ProblemFilter>();
        PredictEndpoint.Map(v1);
        StreamEndpoints.Map(v1);
        ModelEndpoint.Map(v1);
        app.MapGrpcService<RnnGrpcService>();
        return app;
    }
}
