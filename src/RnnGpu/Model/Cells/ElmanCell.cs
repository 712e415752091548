using RnnGpu.Accelerators;

namespace RnnGpu.Model;

/// <summary>
/// nn.RNN's cell: h_t = act(x W_ih^T + b_ih + h_prev W_hh^T + b_hh). The projection lands in the layer's states and
/// becomes h there in place; BPTT overwrites dL/dh with dL/dpre in place.
/// </summary>
internal sealed class ElmanCell : RecurrentCell
{
    public static readonly ElmanCell Instance = new();

    public override Slice Projection(RnnPass pass, int layer, int direction) => pass.Buffers.Outputs(layer, direction);

    public override void Forward(RnnPass pass, int layer, int direction, ReadOnlySpan<int> stepRows)
    {
        var (config, h0, states) = (pass.Config, pass.Buffers.Initial(layer, direction, 0, stepRows[0]), pass.Buffers.Outputs(layer, direction));
        string wHh = ParameterLayout.WeightHh(layer, direction);
        if (pass.Model.QuantizedWeight(wHh) is { } quantized)
            pass.Accelerator.RnnRecurrenceForward(config.Nonlinearity, stepRows, config.HiddenSize, h0, quantized, states, reverse: direction == 1);
        else
            pass.Accelerator.RnnRecurrenceForward(config.Nonlinearity, stepRows, config.HiddenSize, h0, pass.Model.Parameter(wHh), states, reverse: direction == 1);
    }

    public override void Backward(RnnPass pass, int layer, int direction, ReadOnlySpan<int> stepRows, Slice dh)
    {
        long n = (long)stepRows[0] * pass.Config.HiddenSize;
        pass.Accelerator.RnnRecurrenceBackward(pass.Config.Nonlinearity, stepRows, pass.Config.HiddenSize, pass.Buffers.Outputs(layer, direction),
            pass.Model.Parameter(ParameterLayout.WeightHh(layer, direction)), InputGradient(pass, layer, direction), dh.Sub(0, n),
            pass.Buffers.Backward.DhA.Slice(0, n), reverse: direction == 1);
    }

    public override Slice InputGradient(RnnPass pass, int layer, int direction) => pass.DStates(layer, direction);
}
