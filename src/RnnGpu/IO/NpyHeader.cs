using System.Text;

namespace RnnGpu.IO;

/// <summary>The header dict of an .npy file: "{'descr': '&lt;f4', 'fortran_order': False, 'shape': (2, 3), }".</summary>
internal sealed record NpyHeader(NpyDType DType, int[] Shape, long Count)
{
    private static readonly string[] Keys = ["descr", "fortran_order", "shape"];

    /// <summary>Parses and validates the header text; every problem is a <see cref="FileFormatException"/> naming <paramref name="path"/>.</summary>
    public static NpyHeader Parse(string text, string path)
    {
        PyValue literal;
        try
        {
            literal = PythonLiteral.Parse(text);
        }
        catch (FormatException e)
        {
            throw new FileFormatException(path, $"header is not a valid Python literal: {e.Message}");
        }
        if (literal is not PyDict dict)
            throw new FileFormatException(path, $"header is not a dict: {Short(literal.Repr())}");

        var values = new Dictionary<string, PyValue>(StringComparer.Ordinal);
        foreach (var (key, value) in dict.Items)
        {
            if (key is not PyStr name)
                throw new FileFormatException(path, $"header key {Short(key.Repr())} is not a string");
            // numpy itself rejects other keys, so a file carrying them was not written by a numpy we understand.
            if (Array.IndexOf(Keys, name.Value) < 0)
                throw new FileFormatException(path, $"header has unexpected key '{name.Value}'");
            if (!values.TryAdd(name.Value, value))
                throw new FileFormatException(path, $"header repeats key '{name.Value}'");
        }
        foreach (string key in Keys)
        {
            if (!values.ContainsKey(key))
                throw new FileFormatException(path, $"header has no '{key}' key");
        }

        if (values["descr"] is not PyStr descr || !NpyDTypes.TryParseDescr(descr.Value, out NpyDType dtype))
        {
            string shown = values["descr"] is PyStr s ? s.Value : Short(values["descr"].Repr());
            throw new FileFormatException(path, $"unsupported dtype '{shown}' (supported: <f4, <f8, <i4, <i8)");
        }

        if (values["fortran_order"] is not PyBool fortran)
            throw new FileFormatException(path, $"'fortran_order' is {Short(values["fortran_order"].Repr())}, not True or False");
        if (fortran.Value)
            throw new FileFormatException(path, "Fortran-order arrays are not supported");

        if (values["shape"] is not PySequence { IsTuple: true } tuple || tuple.Items.Any(i => i is not PyInt))
            throw new FileFormatException(path, $"shape {Short(values["shape"].Repr())} is not a tuple of integers");
        var shape = new int[tuple.Items.Count];
        long count = 1;
        for (int i = 0; i < shape.Length; i++)
        {
            long d = ((PyInt)tuple.Items[i]).Value;
            if (d < 0) throw new FileFormatException(path, $"negative dimension {d} in shape {Short(tuple.Repr())}");
            if (d > int.MaxValue) throw new FileFormatException(path, $"dimension {d} in shape {Short(tuple.Repr())} is too large");
            shape[i] = (int)d;
            // Capped at Array.MaxLength (the data becomes one array), which also keeps the product from overflowing.
            count *= d;
            if (count > Array.MaxLength)
                throw new FileFormatException(path, $"shape {Short(tuple.Repr())} holds more than {Array.MaxLength} elements");
        }
        return new NpyHeader(dtype, shape, count);
    }

    /// <summary>The dict as numpy writes it: sorted keys, Python reprs, trailing ", " before the brace. Unpadded.</summary>
    public static string Format(NpyDType dtype, int[] shape)
    {
        var sb = new StringBuilder();
        sb.Append("{'descr': '").Append(dtype.Descr()).Append("', 'fortran_order': False, 'shape': ");
        sb.Append(ShapeText(shape));
        sb.Append(", }");
        return sb.ToString();
    }

    /// <summary>The shape as Python writes the tuple: "()", "(5,)", "(2, 3)".</summary>
    public static string ShapeText(int[] shape) => new PySequence(true, shape.Select(d => (PyValue)new PyInt(d)).ToList()).Repr();

    private static string Short(string text) => text.Length <= 80 ? text : text[..80] + "...";
}
