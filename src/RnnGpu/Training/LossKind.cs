namespace RnnGpu.Training;

/// <summary>
/// The training losses, each the mean PyTorch computes by default.
/// Mse: nn.MSELoss, targets [B, T, O], mean over all elements.
/// CrossEntropy: nn.CrossEntropyLoss over softmax logits, targets [B, T] class ids, mean over steps and batch.
/// BinaryCrossEntropy: nn.BCEWithLogitsLoss, targets [B, T, O] in [0, 1], mean over all elements.
/// </summary>
public enum LossKind
{
    Mse,
    CrossEntropy,
    BinaryCrossEntropy,
}

public static class LossNames
{
    public static LossKind Parse(string name) => name.ToLowerInvariant() switch
    {
        "mse" => LossKind.Mse,
        "ce" or "cross-entropy" or "crossentropy" => LossKind.CrossEntropy,
        "bce" or "binary-cross-entropy" => LossKind.BinaryCrossEntropy,
        _ => throw new ShapeException($"unknown loss '{name}': expected mse, ce or bce"),
    };
}
