namespace RnnGpu.Accelerators;

/// <summary>The optimizer hyper-parameters of one SGD step (PyTorch's torch.optim.SGD rule).</summary>
/// <param name="FirstStep">True on the first step, when PyTorch sets the momentum buffer to the gradient.</param>
public readonly record struct SgdStep(float LearningRate, float Momentum, float WeightDecay, bool FirstStep);

/// <summary>
/// One Adam step (torch.optim.Adam, amsgrad off). StepSize = lr / (1 - beta1^t) and
/// BiasCorrection2Sqrt = sqrt(1 - beta2^t) are computed on the host in double.
/// </summary>
public readonly record struct AdamStep(float Beta1, float Beta2, float Epsilon, float WeightDecay, float StepSize, float BiasCorrection2Sqrt);
