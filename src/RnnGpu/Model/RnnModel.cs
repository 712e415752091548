using RnnGpu.Accelerators;

namespace RnnGpu.Model;

/// <summary>
/// A recurrent network (PyTorch nn.RNN, nn.LSTM or nn.GRU semantics, <see cref="RnnConfig.Cell"/>) with an optional
/// linear head, living on one accelerator: its configuration and weights; passes over batches run in <see cref="RnnPass"/>.
/// Parameters and their gradients are two flat device buffers laid out by <see cref="ParameterLayout"/>.
/// The API is batch-first ([batch, time, features]), like nn.RNN(batch_first=True).
/// Not thread-safe: one model serves one caller at a time; <see cref="CreateInferenceView"/> gives
/// each further thread its own buffers over the same parameters.
/// </summary>
public sealed partial class RnnModel : IDisposable
{
    private readonly Dictionary<(int Batch, int Time), (RnnPass Pass, long LastUse)> _passes = new();
    private readonly bool _ownsParameters;
    private DeviceBuffer? _gradients;
    private long _uses;

    private RnnModel(RnnConfig config, Accelerator accelerator, DeviceBuffer? sharedParameters = null)
    {
        config.Validate();
        Config = config;
        Accelerator = accelerator;
        Layout = new ParameterLayout(config);
        _ownsParameters = sharedParameters is null;
        Parameters = sharedParameters ?? accelerator.Allocate(Layout.TotalLength);
    }

    public RnnConfig Config { get; }
    public Accelerator Accelerator { get; }
    public ParameterLayout Layout { get; }

    /// <summary>For character models: the characters whose one-hot codes are the inputs and the classes of the head.</summary>
    public string? Vocabulary { get; set; }

    /// <summary>Every parameter, flat: [Layout.TotalLength].</summary>
    public DeviceBuffer Parameters { get; }

    /// <summary>dL/dParameters from the last backward pass (overwritten, not accumulated): [Layout.TotalLength]. Made on first use, so inference never pays for it.</summary>
    public DeviceBuffer Gradients => _gradients ??= Accelerator.Allocate(Layout.TotalLength);

    /// <summary>
    /// How many (batch, time) workspaces stay cached; the least recently used goes first. Four covers
    /// training (a truncated-BPTT chunk, its remainder, a sampling shape); a server batching requests of
    /// many shapes keeps more.
    /// </summary>
    public int CachedShapes
    {
        get => _cachedShapes;
        set => _cachedShapes = value >= 2 ? value : throw new ShapeException($"cached shapes {value} must be at least 2");
    }

    private int _cachedShapes = 4;

    /// <summary>
    /// A model that reads this model's parameters, without a copy, and has its own workspaces: run one on
    /// each thread to serve concurrent callers from one set of weights. For inference: it sees every
    /// parameter change made through this model. It must be disposed before this model; disposing it
    /// leaves the parameters alone.
    /// </summary>
    public RnnModel CreateInferenceView() =>
        new(Config, Accelerator, Parameters) { Vocabulary = Vocabulary, CachedShapes = CachedShapes, _weights = _weights, _quantized = _quantized };

    /// <summary>
    /// A new model initialized as PyTorch does: every nn.RNN parameter uniform in (-1/sqrt(H), 1/sqrt(H)),
    /// the head's (nn.Linear) in (-1/sqrt(fan_in), 1/sqrt(fan_in)). The same seed gives the same weights.
    /// </summary>
    public static RnnModel Create(RnnConfig config, Accelerator accelerator, int seed = 0)
    {
        var model = new RnnModel(config, accelerator);
        var rng = new Random(seed);
        var values = new float[model.Layout.TotalLength];
        foreach (var p in model.Layout.Parameters)
        {
            float bound = 1f / MathF.Sqrt(p.Name.StartsWith("head.", StringComparison.Ordinal) ? config.LayerOutputSize : config.HiddenSize);
            for (long i = p.Offset; i < p.Offset + p.Length; i++) values[i] = (float)(rng.NextDouble() * 2 - 1) * bound;
        }
        accelerator.CopyIn(values, model.Parameters);
        return model;
    }

    /// <summary>A model with the given architecture and these parameters (PyTorch state_dict names and shapes).</summary>
    public static RnnModel FromParameters(RnnConfig config, Accelerator accelerator, IReadOnlyDictionary<string, Tensor> parameters)
    {
        var model = new RnnModel(config, accelerator);
        try
        {
            model.LoadParameters(parameters);
            return model;
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    public Slice Parameter(string name) => Slice(Parameters, name);

    public Slice Gradient(string name) => Slice(Gradients, name);

    private Slice Slice(DeviceBuffer flat, string name)
    {
        var info = Layout[name];
        return flat.Slice(info.Offset, info.Length);
    }

    public Tensor GetParameter(string name) => new(Accelerator.ToArray(Parameter(name)), Layout[name].Shape);

    public Tensor GetGradient(string name) => new(Accelerator.ToArray(Gradient(name)), Layout[name].Shape);

    public void SetParameter(string name, Tensor value)
    {
        CheckFloat32("setting a parameter");
        var info = Layout[name];
        if (!value.Shape.AsSpan().SequenceEqual(info.Shape))
            throw new ShapeException($"parameter '{name}' has shape {info.ShapeText}, the value has {value.ShapeText}");
        CheckFinite(value, $"parameter '{name}'");
        Accelerator.CopyIn(value.Data, Parameter(name));
    }

    /// <summary>Every parameter by its PyTorch name, copied to the host.</summary>
    public IReadOnlyDictionary<string, Tensor> StateDict() => Layout.Split(Accelerator.ToArray(Parameters));

    /// <summary>Every gradient of the last backward pass by its parameter's name, copied to the host.</summary>
    internal IReadOnlyDictionary<string, Tensor> GradientsByName() => Layout.Split(Accelerator.ToArray(Gradients));

    /// <summary>Sets every parameter; a missing or misshapen one fails before anything is written.</summary>
    public void LoadParameters(IReadOnlyDictionary<string, Tensor> parameters)
    {
        CheckFloat32("loading parameters");
        var all = new float[Layout.TotalLength];
        foreach (var info in Layout.Parameters)
        {
            if (!parameters.TryGetValue(info.Name, out var value))
                throw new ShapeException($"parameter '{info.Name}' {info.ShapeText} is missing");
            if (!value.Shape.AsSpan().SequenceEqual(info.Shape))
                throw new ShapeException($"parameter '{info.Name}' has shape {value.ShapeText}, expected {info.ShapeText}");
            CheckFinite(value, $"parameter '{info.Name}'");
            value.Data.CopyTo(all, info.Offset);
        }
        Accelerator.CopyIn(all, Parameters);
    }

    /// <summary>
    /// The pass (and its buffers) for one (batch, time) shape. A few shapes stay cached (a truncated-BPTT chunk and
    /// its remainder, a sampling shape); a new one evicts the least recently used, never the two most
    /// recent, which a caller may still be copying a carried state between.
    /// </summary>
    internal RnnPass Pass(int batch, int time)
    {
        _uses++;
        if (_passes.TryGetValue((batch, time), out var entry))
        {
            _passes[(batch, time)] = (entry.Pass, _uses);
            return entry.Pass;
        }
        while (_passes.Count >= _cachedShapes)
        {
            var oldest = _passes.MinBy(kv => kv.Value.LastUse);
            oldest.Value.Pass.Dispose();
            _passes.Remove(oldest.Key);
        }
        var pass = new RnnPass(this, batch, time);
        _passes[(batch, time)] = (pass, _uses);
        return pass;
    }

    /// <summary>A step-at-a-time inference stream of <paramref name="batch"/> rows, its states at zeros (see <see cref="RnnStream"/>).</summary>
    public RnnStream CreateStream(int batch = 1) => new(this, batch);

    public void Dispose()
    {
        foreach (var (pass, _) in _passes.Values) pass.Dispose();
        _passes.Clear();
        if (_ownsParameters)
        {
            Parameters.Dispose();
            foreach (var w in QuantizedParameters.Values) Accelerator.Release(w);
        }
        _gradients?.Dispose();
    }
}
