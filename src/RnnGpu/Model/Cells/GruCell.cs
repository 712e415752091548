using RnnGpu.Accelerators;

namespace RnnGpu.Model;

/// <summary>
/// nn.GRU's cell (gates r, z, n; n = tanh(x W_in^T + b_in + r ⊙ (h W_hn^T + b_hn))). The projection (with b_ih only) lands
/// in the gates; W_hn h + b_hn of every step is kept for BPTT, which makes separate gradients for the input and the
/// recurrent side, as the n block differs by the factor r.
/// </summary>
internal sealed class GruCell : RecurrentCell
{
    public static readonly GruCell Instance = new();

    public override bool HiddenBiasInProjection => false;

    public override Slice Projection(RnnPass pass, int layer, int direction) => pass.Buffers.Gates(layer, direction);

    public override void Forward(RnnPass pass, int layer, int direction, ReadOnlySpan<int> stepRows)
    {
        var (ws, model) = (pass.Buffers, pass.Model);
        if (model.QuantizedWeight(ParameterLayout.WeightHh(layer, direction)) is { } quantized)
        {
            pass.Accelerator.GruRecurrenceForward(stepRows, pass.Config.HiddenSize, ws.Initial(layer, direction, 0, stepRows[0]), quantized,
                model.Parameter(ParameterLayout.BiasHh(layer, direction)), ws.Gates(layer, direction), ws.Extra(layer, direction), ws.Outputs(layer, direction),
                ws.StepScratch, reverse: direction == 1);
            return;
        }
        pass.Accelerator.GruRecurrenceForward(stepRows, pass.Config.HiddenSize, ws.Initial(layer, direction, 0, stepRows[0]),
            model.Parameter(ParameterLayout.WeightHh(layer, direction)), model.Parameter(ParameterLayout.BiasHh(layer, direction)), ws.Gates(layer, direction),
            ws.Extra(layer, direction), ws.Outputs(layer, direction), ws.StepScratch, reverse: direction == 1);
    }

    public override void Backward(RnnPass pass, int layer, int direction, ReadOnlySpan<int> stepRows, Slice dh)
    {
        var ws = pass.Buffers;
        int b0 = stepRows[0];
        pass.Accelerator.GruRecurrenceBackward(stepRows, pass.Config.HiddenSize, ws.Initial(layer, direction, 0, b0),
            pass.Model.Parameter(ParameterLayout.WeightHh(layer, direction)), ws.Gates(layer, direction), ws.Extra(layer, direction), ws.Outputs(layer, direction),
            pass.DStates(layer, direction), InputGradient(pass, layer, direction), HiddenGradient(pass, layer, direction),
            dh.Sub(0, (long)b0 * pass.Config.HiddenSize), reverse: direction == 1);
    }

    public override Slice InputGradient(RnnPass pass, int layer, int direction) => pass.Buffers.Backward.DGates(layer, direction);

    public override Slice HiddenGradient(RnnPass pass, int layer, int direction) => pass.Buffers.Backward.DGatesHidden(layer, direction);
}
