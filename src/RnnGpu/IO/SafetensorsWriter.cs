using System.Buffers;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace RnnGpu.IO;

/// <summary>Writes tensors as a safetensors file, reproducibly (sorted names) and atomically: F32, or the dtype given per name (I8, BF16).</summary>
internal static class SafetensorsWriter
{
    public static void Write(string path, IReadOnlyDictionary<string, Tensor> tensors, IReadOnlyDictionary<string, string>? metadata,
        IReadOnlyDictionary<string, SafetensorsDType>? dtypes = null)
    {
        SafetensorsDType DTypeOf(string name) => dtypes?.GetValueOrDefault(name, SafetensorsDType.F32) ?? SafetensorsDType.F32;
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(tensors);

        // Ordinal sort: the same tensors always give the same bytes, whatever the dictionary's order or the culture.
        var ordered = tensors.OrderBy(t => t.Key, StringComparer.Ordinal).ToList();
        foreach (var (name, tensor) in ordered)
        {
            if (name == SafetensorsHeader.MetadataKey)
                throw new ArgumentException($"'{SafetensorsHeader.MetadataKey}' is reserved and cannot name a tensor", nameof(tensors));
            if (tensor is null)
                throw new ArgumentException($"tensor '{name}' is null", nameof(tensors));
            // Tensor exposes its arrays, so re-check that nobody resized the shape behind its back.
            if (Tensor.ElementCount(tensor.Shape) != tensor.Data.Length)
                throw new ShapeException($"tensor '{name}': shape {tensor.ShapeText} does not match its {tensor.Data.Length} elements");
        }

        byte[] header = BuildHeader(ordered, metadata, DTypeOf);
        AtomicFile.Write(path, stream =>
        {
            Span<byte> length = stackalloc byte[8];
            System.Buffers.Binary.BinaryPrimitives.WriteUInt64LittleEndian(length, (ulong)header.Length);
            stream.Write(length);
            stream.Write(header);
            foreach (var (name, tensor) in ordered)
                DTypeOf(name).Write(stream, tensor.Data, name);
        });
    }

    private static byte[] BuildHeader(List<KeyValuePair<string, Tensor>> ordered, IReadOnlyDictionary<string, string>? metadata,
        Func<string, SafetensorsDType> dtypeOf)
    {
        var buffer = new ArrayBufferWriter<byte>();
        // Relaxed escaping keeps non-ASCII names readable; the output is still strict JSON.
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            json.WriteStartObject();
            if (metadata is { Count: > 0 })
            {
                json.WriteStartObject(SafetensorsHeader.MetadataKey);
                foreach (var (key, value) in metadata.OrderBy(m => m.Key, StringComparer.Ordinal))
                    json.WriteString(key, value ?? throw new ArgumentException($"metadata value for '{key}' is null", nameof(metadata)));
                json.WriteEndObject();
            }
            long offset = 0;
            foreach (var (name, tensor) in ordered)
            {
                var dtype = dtypeOf(name);
                long end = offset + (long)tensor.Data.Length * dtype.Size();
                json.WriteStartObject(name);
                json.WriteString("dtype", dtype.ToString());
                json.WriteStartArray("shape");
                foreach (int d in tensor.Shape) json.WriteNumberValue(d);
                json.WriteEndArray();
                json.WriteStartArray("data_offsets");
                json.WriteNumberValue(offset);
                json.WriteNumberValue(end);
                json.WriteEndArray();
                json.WriteEndObject();
                offset = end;
            }
            json.WriteEndObject();
        }

        // Pad with spaces (allowed after JSON) so the data blob starts 8-byte aligned, as the reference writer does;
        // the 8-byte length prefix is itself aligned, so the header length must be a multiple of 8.
        int padded = (buffer.WrittenCount + 7) / 8 * 8;
        var header = new byte[padded];
        buffer.WrittenSpan.CopyTo(header);
        header.AsSpan(buffer.WrittenCount).Fill((byte)' ');
        return header;
    }
}
