namespace RnnGpu.IO;

/// <summary>
/// The contents of a safetensors file (https://github.com/huggingface/safetensors): named float32 tensors plus
/// string metadata. Reading converts F64/F16/BF16/I64/I32/I8 to float32 (<see cref="DTypes"/> says what each was); writing
/// writes F32, and I8 and BF16 for a quantized model's weights.
/// </summary>
public sealed class SafetensorsFile
{
    internal SafetensorsFile(string path, IReadOnlyDictionary<string, Tensor> tensors, IReadOnlyDictionary<string, string> metadata,
        IReadOnlyDictionary<string, string>? dtypes = null)
    {
        Path = path;
        Tensors = tensors;
        Metadata = metadata;
        DTypes = dtypes ?? tensors.ToDictionary(t => t.Key, _ => "F32");
    }

    /// <summary>Each tensor's element type as the file stores it (F32, BF16, I8, ...), by name.</summary>
    public IReadOnlyDictionary<string, string> DTypes { get; }

    /// <summary>The file this was read from; error messages name it.</summary>
    public string Path { get; }

    public IReadOnlyDictionary<string, Tensor> Tensors { get; }

    public IReadOnlyDictionary<string, string> Metadata { get; }

    /// <summary>Reads a file; any damaged, truncated or unsupported content raises <see cref="FileFormatException"/>.</summary>
    public static SafetensorsFile Read(string path) => SafetensorsReader.Read(path);

    /// <summary>Writes F32 tensors with sorted names and an 8-byte aligned data blob, atomically replacing <paramref name="path"/>.</summary>
    public static void Write(string path, IReadOnlyDictionary<string, Tensor> tensors, IReadOnlyDictionary<string, string>? metadata = null)
        => SafetensorsWriter.Write(path, tensors, metadata);

    /// <summary>
    /// The tensor called <paramref name="name"/>, checked to have exactly <paramref name="expectedShape"/>.
    /// A missing or misshapen tensor is a problem of the file, hence <see cref="FileFormatException"/> naming both.
    /// </summary>
    public Tensor Get(string name, params int[] expectedShape)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(expectedShape);
        if (!Tensors.TryGetValue(name, out Tensor? tensor))
            throw new FileFormatException(Path, $"missing tensor '{name}'");
        if (!tensor.Shape.AsSpan().SequenceEqual(expectedShape))
            throw new FileFormatException(Path, $"tensor '{name}' has shape {tensor.ShapeText}, expected [{string.Join(", ", expectedShape)}]");
        return tensor;
    }
}
