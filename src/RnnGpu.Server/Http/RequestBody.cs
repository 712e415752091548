using System.Text.Json;

namespace RnnGpu.Server.Http;

/// <summary>
/// Reads a JSON body under a size limit. The limit is checked here, on the declared Content-Length and on
/// the bytes actually read, rather than left to Kestrel alone: a chunked body has no length, and an
/// in-process test server enforces no limit at all.
/// </summary>
public static class RequestBody
{
    public static async Task<JsonDocument> ReadJsonAsync(HttpRequest request, long limit, CancellationToken ct)
    {
        if (request.ContentLength > limit) throw TooLarge(limit);
        using var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        try
        {
            int n;
            while ((n = await request.Body.ReadAsync(chunk, ct)) > 0)
            {
                if (buffer.Length + n > limit) throw TooLarge(limit);
                buffer.Write(chunk, 0, n);
            }
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            throw TooLarge(limit);
        }
        try
        {
            return JsonDocument.Parse(buffer.GetBuffer().AsMemory(0, (int)buffer.Length));
        }
        catch (JsonException e)
        {
            throw ApiException.BadRequest($"the body is not valid JSON: {e.Message}");
        }
    }

    private static ApiException TooLarge(long limit) =>
        new(StatusCodes.Status413PayloadTooLarge, "Request body too large",
            $"the request body is larger than {limit} bytes (RnnServer:MaxRequestBodyBytes)");
}
