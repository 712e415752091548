using System.Text.Json;

namespace RnnGpu.Server.Http;

/// <summary>A JSON array of equal-length rows of numbers, flattened row-major: [rows, width].</summary>
public sealed record Matrix(float[] Data, int Rows, int Width)
{
    /// <summary>
    /// The field <paramref name="name"/> of the body object as rows of <paramref name="width"/> finite
    /// float32 values; null when it is absent or null and not required. Every fault is a 400 naming the
    /// field, the row and the column.
    /// </summary>
    public static Matrix? Read(JsonElement body, string name, int width, string widthMeaning, bool required)
    {
        if (body.ValueKind != JsonValueKind.Object)
            throw ApiException.BadRequest($"the body must be a JSON object, not {Kind(body)}");
        if (!body.TryGetProperty(name, out var field) || field.ValueKind == JsonValueKind.Null)
            return required ? throw ApiException.BadRequest($"missing field '{name}'") : null;
        if (field.ValueKind != JsonValueKind.Array)
            throw ApiException.BadRequest($"'{name}' must be an array of rows, not {Kind(field)}");
        int rows = field.GetArrayLength();
        if (rows == 0) throw ApiException.BadRequest($"'{name}' has no rows");

        var data = new float[(long)rows * width];
        int r = 0;
        foreach (var row in field.EnumerateArray())
        {
            if (row.ValueKind != JsonValueKind.Array)
                throw ApiException.BadRequest($"'{name}'[{r}] must be an array of {width} numbers, not {Kind(row)}");
            int length = row.GetArrayLength();
            if (length != width)
                throw ApiException.BadRequest($"'{name}'[{r}] has {length} values, expected {width} ({widthMeaning})");
            int c = 0;
            foreach (var value in row.EnumerateArray())
                data[(long)r * width + c] = Finite(value, name, r, c++);
            r++;
        }
        return new Matrix(data, rows, width);
    }

    /// <summary>A finite float32: NaN and infinity have no JSON form, but a number such as 1e40 overflows float.</summary>
    private static float Finite(JsonElement value, string name, int row, int column)
    {
        if (value.ValueKind != JsonValueKind.Number)
            throw ApiException.BadRequest($"'{name}'[{row}][{column}] must be a number, not {Kind(value)}");
        if (!value.TryGetDouble(out double d) || !float.IsFinite((float)d))
            throw ApiException.BadRequest($"'{name}'[{row}][{column}] = {value.GetRawText()} is not a finite 32-bit float");
        return (float)d;
    }

    private static string Kind(JsonElement e) => e.ValueKind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        _ => "null",
    };
}
