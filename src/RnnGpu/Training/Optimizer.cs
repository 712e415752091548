using RnnGpu.Accelerators;
using RnnGpu.Model;

namespace RnnGpu.Training;

/// <summary>
/// Updates a model's flat parameter buffer from its flat gradient buffer in one kernel.
/// Its state (momentum, moments) is bound to the first model it steps.
/// </summary>
public abstract class Optimizer : IDisposable
{
    private RnnModel? _model;
    private readonly List<DeviceBuffer> _state = new();

    protected Optimizer(float learningRate) => LearningRate = learningRate;

    /// <summary>May change between steps (a schedule); must stay positive and finite.</summary>
    public float LearningRate
    {
        get => _learningRate;
        set => _learningRate = value > 0 && float.IsFinite(value) ? value
            : throw new ShapeException($"learning rate {value} must be a positive finite number");
    }

    private float _learningRate;

    /// <summary>Number of steps taken so far.</summary>
    public long StepCount { get; private set; }

    public void Step(RnnModel model)
    {
        model.CheckFloat32("an optimizer step");
        if (_model is null)
        {
            _model = model;
            CreateState(model);
        }
        else if (!ReferenceEquals(_model, model))
            throw new InvalidOperationException("this optimizer already holds the state of another model");
        StepCount++;
        Apply(model);
    }

    protected DeviceBuffer NewState(RnnModel model)
    {
        var buffer = model.Accelerator.Allocate(model.Layout.TotalLength);
        _state.Add(buffer);
        return buffer;
    }

    protected abstract void CreateState(RnnModel model);

    protected abstract void Apply(RnnModel model);

    public void Dispose()
    {
        foreach (var b in _state) b.Dispose();
        _state.Clear();
        GC.SuppressFinalize(this);
    }

    protected static void CheckHyper(float value, float min, float maxExclusive, string name)
    {
        if (!(value >= min && value < maxExclusive))
            throw new ShapeException($"{name} {value} must be in [{min}, {maxExclusive})");
    }
}

/// <summary>torch.optim.SGD: d = g + wd p; with momentum, buf = m buf + d (buf = d on the first step); p -= lr buf.</summary>
public sealed class Sgd : Optimizer
{
    private DeviceBuffer? _momentum;

    public Sgd(float learningRate, float momentum = 0f, float weightDecay = 0f) : base(learningRate)
    {
        CheckHyper(momentum, 0f, 1f, "momentum");
        CheckHyper(weightDecay, 0f, float.PositiveInfinity, "weight decay");
        Momentum = momentum;
        WeightDecay = weightDecay;
    }

    public float Momentum { get; }
    public float WeightDecay { get; }

    protected override void CreateState(RnnModel model) => _momentum = NewState(model);

    protected override void Apply(RnnModel model) =>
        model.Accelerator.SgdUpdate(model.Parameters, model.Gradients, _momentum!, new SgdStep(LearningRate, Momentum, WeightDecay, StepCount == 1));
}

/// <summary>torch.optim.Adam (L2 weight decay added to the gradient, amsgrad off) with PyTorch's defaults.</summary>
public sealed class Adam : Optimizer
{
    private DeviceBuffer? _m, _v;

    public Adam(float learningRate = 1e-3f, float beta1 = 0.9f, float beta2 = 0.999f, float epsilon = 1e-8f, float weightDecay = 0f)
        : base(learningRate)
    {
        CheckHyper(beta1, 0f, 1f, "beta1");
        CheckHyper(beta2, 0f, 1f, "beta2");
        // eps = 0 would turn a coordinate whose gradient is exactly zero into 0/0.
        if (!(epsilon > 0 && float.IsFinite(epsilon))) throw new ShapeException($"epsilon {epsilon} must be a positive finite number");
        CheckHyper(weightDecay, 0f, float.PositiveInfinity, "weight decay");
        (Beta1, Beta2, Epsilon, WeightDecay) = (beta1, beta2, epsilon, weightDecay);
    }

    public float Beta1 { get; }
    public float Beta2 { get; }
    public float Epsilon { get; }
    public float WeightDecay { get; }

    protected override void CreateState(RnnModel model)
    {
        _m = NewState(model);
        _v = NewState(model);
    }

    protected override void Apply(RnnModel model)
    {
        double bc1 = 1 - Math.Pow(Beta1, StepCount), bc2 = 1 - Math.Pow(Beta2, StepCount);
        var step = new AdamStep(Beta1, Beta2, Epsilon, WeightDecay, (float)(LearningRate / bc1), (float)Math.Sqrt(bc2));
        model.Accelerator.AdamUpdate(model.Parameters, model.Gradients, _m!, _v!, step);
    }
}
