namespace RnnGpu.Accelerators;

/// <summary>The recurrent nonlinearity, as PyTorch's nn.RNN names it.</summary>
public enum Activation
{
    Tanh,
    Relu,
}

public static class ActivationNames
{
    public static string ToName(this Activation a) => a == Activation.Tanh ? "tanh" : "relu";

    public static Activation Parse(string name) => name.ToLowerInvariant() switch
    {
        "tanh" => Activation.Tanh,
        "relu" => Activation.Relu,
        _ => throw new ShapeException($"unknown nonlinearity '{name}': expected tanh or relu"),
    };
}
