using System.Text.Json;

namespace RnnGpu.IO;

/// <summary>
/// Parses and validates the JSON header of a safetensors file. Everything a malicious or damaged header could
/// claim (sizes, offsets, dimensions) is checked against the real blob length here, before any tensor is allocated.
/// </summary>
internal sealed class SafetensorsHeader
{
    public const string MetadataKey = "__metadata__";

    private SafetensorsHeader(List<SafetensorsEntry> entries, Dictionary<string, string> metadata)
    {
        Entries = entries;
        Metadata = metadata;
    }

    public List<SafetensorsEntry> Entries { get; }
    public Dictionary<string, string> Metadata { get; }

    public static SafetensorsHeader Parse(byte[] json, long blobLength, string path)
    {
        // JsonDocument checks UTF-8 only lazily, when a string is read; an early check keeps that failure a format error.
        if (!System.Text.Unicode.Utf8.IsValid(json))
            throw new FileFormatException(path, "header is not valid UTF-8");

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json, new JsonDocumentOptions { MaxDepth = 16 });
        }
        catch (JsonException e)
        {
            throw new FileFormatException(path, $"header is not valid JSON: {e.Message}");
        }

        using (document)
        {
            JsonElement root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
                throw new FileFormatException(path, $"header is not a JSON object but {Describe(root.ValueKind)}");

            var entries = new List<SafetensorsEntry>();
            var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
            var names = new HashSet<string>(StringComparer.Ordinal);
            long declaredBytes = 0;
            foreach (JsonProperty property in root.EnumerateObject())
            {
                // JSON allows repeated keys; a repeated tensor would make the file ambiguous.
                if (!names.Add(property.Name))
                    throw new FileFormatException(path, $"duplicate key '{property.Name}' in header");
                if (property.Name == MetadataKey)
                {
                    ReadMetadata(property.Value, metadata, path);
                    continue;
                }
                SafetensorsEntry entry = ReadEntry(property.Name, property.Value, blobLength, path);
                entries.Add(entry);
                declaredBytes += entry.ByteLength;
                // Overlapping tensors are tolerated, but not to the point of multiplying the allocation beyond the file size.
                if (declaredBytes > blobLength)
                    throw new FileFormatException(path, $"tensors declare more bytes in total than the {blobLength}-byte data blob holds (overlapping data_offsets)");
            }
            return new SafetensorsHeader(entries, metadata);
        }
    }

    private static void ReadMetadata(JsonElement value, Dictionary<string, string> metadata, string path)
    {
        if (value.ValueKind != JsonValueKind.Object)
            throw new FileFormatException(path, $"'{MetadataKey}' is not an object but {Describe(value.ValueKind)}");
        foreach (JsonProperty item in value.EnumerateObject())
        {
            if (item.Value.ValueKind != JsonValueKind.String)
                throw new FileFormatException(path, $"'{MetadataKey}' value for key '{item.Name}' is not a string but {Describe(item.Value.ValueKind)}");
            metadata[item.Name] = item.Value.GetString()!;
        }
    }

    private static SafetensorsEntry ReadEntry(string name, JsonElement value, long blobLength, string path)
    {
        FileFormatException Bad(string problem) => new(path, $"tensor '{name}': {problem}");

        if (value.ValueKind != JsonValueKind.Object)
            throw Bad($"entry is not an object but {Describe(value.ValueKind)}");

        JsonElement dtypeElement = Required(value, "dtype", JsonValueKind.String, Bad);
        string dtypeName = dtypeElement.GetString()!;
        if (!SafetensorsDTypes.TryParse(dtypeName, out SafetensorsDType dtype))
            throw Bad($"unsupported dtype '{dtypeName}' (supported: {SafetensorsDTypes.Supported})");

        JsonElement shapeElement = Required(value, "shape", JsonValueKind.Array, Bad);
        var shape = new int[shapeElement.GetArrayLength()];
        long count = 1;
        int axis = 0;
        foreach (JsonElement dim in shapeElement.EnumerateArray())
        {
            if (dim.ValueKind != JsonValueKind.Number || !dim.TryGetInt64(out long d))
                throw Bad($"shape entry {dim.GetRawText()} is not an integer");
            if (d < 0) throw Bad($"negative dimension {d} in shape");
            if (d > int.MaxValue) throw Bad($"dimension {d} is too large");
            shape[axis++] = (int)d;
            // Stop at Array.MaxLength: the tensor becomes one float[], and the product cannot overflow a long before this trips.
            count *= d;
            if (count > Array.MaxLength) throw Bad($"shape holds more than {Array.MaxLength} elements");
        }

        JsonElement offsets = Required(value, "data_offsets", JsonValueKind.Array, Bad);
        if (offsets.GetArrayLength() != 2)
            throw Bad($"data_offsets {offsets.GetRawText()} is not a pair [begin, end]");
        ulong begin = ReadOffset(offsets[0], Bad);
        ulong end = ReadOffset(offsets[1], Bad);
        if (begin > end)
            throw Bad($"data_offsets [{begin}, {end}] end before they begin");
        if (end > (ulong)blobLength)
            throw Bad($"data_offsets [{begin}, {end}] run past the end of the {blobLength}-byte data blob");

        long needed = count * dtype.Size();
        if ((long)(end - begin) != needed)
            throw Bad($"data_offsets [{begin}, {end}] span {end - begin} bytes, shape [{string.Join(", ", shape)}] of {dtype} needs {needed}");

        return new SafetensorsEntry(name, dtype, shape, count, (long)begin, (long)end);
    }

    private static JsonElement Required(JsonElement entry, string key, JsonValueKind kind, Func<string, FileFormatException> bad)
    {
        if (!entry.TryGetProperty(key, out JsonElement value))
            throw bad($"missing '{key}'");
        if (value.ValueKind != kind)
            throw bad($"'{key}' is not {Describe(kind)} but {Describe(value.ValueKind)}");
        return value;
    }

    private static ulong ReadOffset(JsonElement element, Func<string, FileFormatException> bad)
    {
        if (element.ValueKind != JsonValueKind.Number || !element.TryGetUInt64(out ulong offset))
            throw bad($"data offset {element.GetRawText()} is not a non-negative integer");
        return offset;
    }

    private static string Describe(JsonValueKind kind) => kind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        JsonValueKind.Null => "null",
        _ => kind.ToString(),
    };
}
