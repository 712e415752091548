namespace RnnGpu.Model;

/// <summary>One named parameter inside the flat parameter buffer. Names and shapes are PyTorch's.</summary>
public sealed record ParameterInfo(string Name, int[] Shape, long Offset)
{
    public long Length => Tensor.ElementCount(Shape);
    public string ShapeText => $"[{string.Join(", ", Shape)}]";
}

/// <summary>
/// All parameters of a model laid out in one flat buffer, in PyTorch's state_dict order: for each layer k,
/// rnn.weight_ih_l{k} [G*H, in_k], rnn.weight_hh_l{k} [G*H, S], rnn.bias_ih_l{k} [G*H], rnn.bias_hh_l{k} [G*H]
/// and, for an LSTM with a projection, rnn.weight_hr_l{k} [P, H]; then the same with the suffix _reverse for a
/// bidirectional layer; then head.weight [O, D*S] and head.bias [O]. G is the cell's gate count (1, 4, 3), S the
/// state size (P or H). One buffer lets the optimizer, the gradient norm and clipping each run as a
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
        int g = config.GateWidth;
        for (int k = 0; k < config.NumLayers; k++)
        for (int d = 0; d < config.Directions; d++)
        {
            Add(WeightIh(k, d), g, config.LayerInputSize(k));
            Add(WeightHh(k, d), g, config.StateSize);
            Add(BiasIh(k, d), g);
            Add(BiasHh(k, d), g);
            if (config.ProjSize > 0) Add(WeightHr(k, d), config.ProjSize, config.HiddenSize);
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
    public static string WeightHr(int layer, int direction = 0) => Name("weight_hr", layer, direction);
    public const string HeadWeight = "head.weight";
    public const string HeadBias = "head.bias";

    private static readonly System.Collections.Concurrent.ConcurrentDictionary<(string Kind, int Layer, int Direction), string> Names = new();

    private static string Name(string kind, int layer, int direction) =>
        Names.GetOrAdd((kind, layer, direction), static k => $"rnn.{k.Kind}_l{k.Layer}{(k.Direction == 0 ? "" : "_reverse")}");
}
