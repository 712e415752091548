using RnnGpu.Accelerators;
using RnnGpu.Model;
using RnnGpu.Serving;

namespace RnnGpu.Server.Endpoints;

/// <summary>GET /health: the served model's version, back end, device, shape and weights (fp32, int8, bf16), and the number of open streams.</summary>
public static class HealthEndpoint
{
    public static void Map(IEndpointRouteBuilder app) => app.MapGet("/health", (RnnInference inference, RnnStreams streams) =>
    {
        var m = inference.Model;
        var c = m.Config;
        var shape = new ModelShape(c.InputSize, c.HiddenSize, c.NumLayers, c.Nonlinearity.ToName(), c.OutputSize, c.OutputWidth, c.Bidirectional, c.ManyToOne,
            c.Cell.ToName(), c.ProjSize);
        return new HealthResponse("ok", m.Version, inference.Options.Backend, m.Device, m.LoadedAt, shape, streams.Count, m.Weights);
    });
}
