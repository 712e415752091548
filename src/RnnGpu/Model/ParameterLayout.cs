namespace RnnGpu.Model;

/// <summary>One named parameter inside the flat parameter buffer. Names and shapes are PyTorch's.</summary>
public sealed record ParameterInfo(string Name, int[] Shape, long Offset)
{
    public long Length => Tensor.ElementCount(Shape);
    public string ShapeText => $"[{string.Join(", ", Shape)}]";
}

/// <summary>
/// All parameters of a model laid out in one flat buffer, in PyTorch's state_dict order: for each layer k,
/// rnn.weight_ih_l{k} [H, in_k], rnn.weight_hh_l{k} [H, H], rnn.bias_ih_l{k} [H], rnn.bias_hh_l{k} [H],
/// then the same four with the suffix _reverse for a bidirectional layer; then head.weight [O, D*H]
/// and head.bias [O]. One buffer lets the optimizer, the gradient norm and clipping each run as a
/// single kernel over every parameter.
/// </summary>
public sealed class ParameterLayout
{
    private readonly Dictionary<string, ParameterInfo> _byName;

    public ParameterLayout(RnnConfig config)
    {
        var list = new List<ParameterInfo>();
        long offset = 0;
        void Add(string name, params int[] shape)
        {
            var info = new ParameterInfo(name, shape, offset);
            list.Add(info);
            offset += info.Length;
        }
        int h = config.HiddenSize;
        for (int k = 0; k < config.NumLayers; k++)
        for (int d = 0; d < config.Directions; d++)
        {
            Add(WeightIh(k, d), h, config.LayerInputSize(k));
            Add(WeightHh(k, d), h, h);
            Add(BiasIh(k, d), h);
            Add(BiasHh(k, d), h);
        }
        if (config.HasHead)
        {
            Add(HeadWeight, config.OutputSize, config.LayerOutputSize);
            Add(HeadBias, config.OutputSize);
        }
        Parameters = list;
        TotalLength = offset;
        _byName = list.ToDictionary(p => p.Name);
    }

    public IReadOnlyList<ParameterInfo> Parameters { get; }
    public long TotalLength { get; }

    public ParameterInfo this[string name] =>
        _byName.TryGetValue(name, out var info) ? info : throw new ShapeException($"the model has no parameter '{name}'");

    public bool Contains(string name) => _byName.ContainsKey(name);

    /// <summary>A flat vector in this layout (parameters or their gradients) as one tensor per parameter, by name.</summary>
    public IReadOnlyDictionary<string, Tensor> Split(float[] all) =>
        Parameters.ToDictionary(p => p.Name, p => new Tensor(all.AsSpan((int)p.Offset, (int)p.Length).ToArray(), p.Shape));

    /// <summary>PyTorch's names; direction 1 is the reverse direction of a bidirectional layer. Made once each, so a forward pass that looks its parameters up allocates nothing.</summary>
    public static string WeightIh(int layer, int direction = 0) => Name("weight_ih", layer, direction);
    public static string WeightHh(int layer, int direction = 0) => Name("weight_hh", layer, direction);
    public static string BiasIh(int layer, int direction = 0) => Name("bias_ih", layer, direction);
    public static string BiasHh(int layer, int direction = 0) => Name("bias_hh", layer, direction);
    public const string HeadWeight = "head.weight";
    public const string HeadBias = "head.bias";

    private static readonly System.Collections.Concurrent.ConcurrentDictionary<(string Kind, int Layer, int Direction), string> Names = new();

    private static string Name(string kind, int layer, int direction) =>
        Names.GetOrAdd((kind, layer, direction), static k => $"rnn.{k.Kind}_l{k.Layer}{(k.Direction == 0 ? "" : "_reverse")}");
}
