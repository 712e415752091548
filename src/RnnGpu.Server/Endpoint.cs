using System.Net;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace RnnGpu.Server;

/// <summary>
/// One address to listen at, from a URL as "urls" takes them (http://127.0.0.1:5088, http://localhost:0, http://*:80; several
/// separated by ';'). Kestrel is given every endpoint explicitly, because the gRPC one needs HTTP/2 only.
/// </summary>
internal sealed record Endpoint(string Host, int Port)
{
    public static Endpoint[] Parse(string urls, string setting) => urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
        .Select(url =>
        {
            // "*" and "+" are no URI hosts: read them as "any address".
            var uri = Uri.TryCreate(url.Replace("://*", "://0.0.0.0").Replace("://+", "://0.0.0.0"), UriKind.Absolute, out var u) ? u : null;
            if (uri is null || uri.Scheme != "http" || uri.AbsolutePath != "/")
                throw new RnnGpuException($"{setting}: '{url}' is not an http://host:port address (the service has no TLS of its own: put it behind a proxy that has)");
            return new Endpoint(uri.Host, uri.Port);
        }).ToArray();

    public void Listen(KestrelServerOptions kestrel, HttpProtocols protocols)
    {
        Action<ListenOptions> configure = o => o.Protocols = protocols;
        if (Host == "localhost") kestrel.ListenLocalhost(Port, configure);
        else if (Host is "0.0.0.0" or "[::]") kestrel.ListenAnyIP(Port, configure);
        else if (IPAddress.TryParse(Host.Trim('[', ']'), out var ip)) kestrel.Listen(ip, Port, configure);
        else throw new RnnGpuException($"'{Host}' is not an IP address, localhost or *: give the address to listen at");
    }
}
