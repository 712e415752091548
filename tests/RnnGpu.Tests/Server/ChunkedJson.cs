using System.Net;
using System.Net.Http.Headers;
using System.Text;

namespace RnnGpu.Tests.Server;

/// <summary>A JSON body with no Content-Length, sent in small pieces, as a chunked upload is.</summary>
internal sealed class ChunkedJson : HttpContent
{
    private readonly byte[] _bytes;

    public ChunkedJson(string json)
    {
        _bytes = Encoding.UTF8.GetBytes(json);
        Headers.ContentType = new MediaTypeHeaderValue("application/json");
    }

    protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context)
    {
        for (int at = 0; at < _bytes.Length; at += 100)
            await stream.WriteAsync(_bytes.AsMemory(at, Math.Min(100, _bytes.Length - at)));
    }

    protected override bool TryComputeLength(out long length)
    {
        length = 0;
        return false;
    }
}
