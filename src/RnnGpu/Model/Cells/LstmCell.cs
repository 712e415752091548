using RnnGpu.Accelerators;

namespace RnnGpu.Model;

/// <summary>
/// nn.LSTM's cell (gates i, f, g, o; proj_size P: h_t = W_hr (o ⊙ tanh c_t)). The projection lands in the gates; c of every
/// step beside h in the workspace's CellStates, laid out like the states, c0 and the final c with them.
/// </summary>
internal sealed class LstmCell : RecurrentCell
{
    public static readonly LstmCell Instance = new();

    public override Slice Projection(RnnPass pass, int layer, int direction) => pass.Buffers.Gates(layer, direction);

    public override void Forward(RnnPass pass, int layer, int direction, ReadOnlySpan<int> stepRows)
    {
        var (ws, c, model) = (pass.Buffers, pass.Config, pass.Model);
        if (model.QuantizedWeight(ParameterLayout.WeightHh(layer, direction)) is { } quantized)
        {
            pass.Accelerator.LstmRecurrenceForward(stepRows, c.HiddenSize, c.ProjSize, ws.Initial(layer, direction, 0, stepRows[0]),
                ws.InitialCell(layer, direction, 0, stepRows[0]), quantized, c.ProjSize > 0 ? model.QuantizedWeight(ParameterLayout.WeightHr(layer, direction)) : null,
                ws.Gates(layer, direction), ws.CellOutputs(layer, direction), c.ProjSize > 0 ? ws.Extra(layer, direction) : default, ws.Outputs(layer, direction),
                reverse: direction == 1);
            return;
        }
        pass.Accelerator.LstmRecurrenceForward(stepRows, c.HiddenSize, c.ProjSize, ws.Initial(layer, direction, 0, stepRows[0]),
            ws.InitialCell(layer, direction, 0, stepRows[0]), model.Parameter(ParameterLayout.WeightHh(layer, direction)), ProjectionWeight(pass, layer, direction),
            ws.Gates(layer, direction), ws.CellOutputs(layer, direction), c.ProjSize > 0 ? ws.Extra(layer, direction) : default, ws.Outputs(layer, direction),
            reverse: direction == 1);
    }

    public override void Backward(RnnPass pass, int layer, int direction, ReadOnlySpan<int> stepRows, Slice dh)
    {
        var (ws, c, model) = (pass.Buffers, pass.Config, pass.Model);
        int b0 = stepRows[0];
        var dc = pass.DCell(layer, direction);
        pass.Accelerator.LstmRecurrenceBackward(stepRows, c.HiddenSize, c.ProjSize, ws.InitialCell(layer, direction, 0, b0),
            model.Parameter(ParameterLayout.WeightHh(layer, direction)), ProjectionWeight(pass, layer, direction), ws.Gates(layer, direction),
            ws.CellOutputs(layer, direction), pass.DStates(layer, direction), InputGradient(pass, layer, direction), dh.Sub(0, (long)b0 * c.StateSize),
            dc.Sub(0, (long)b0 * c.HiddenSize), ws.Backward.DhA.Slice(0, (long)b0 * c.HiddenSize), reverse: direction == 1);
    }

    public override Slice InputGradient(RnnPass pass, int layer, int direction) => pass.Buffers.Backward.DGates(layer, direction);

    /// <summary>dW_hr = Σ_t dh_t^T (o ⊙ tanh c_t): [P, Rows] x [Rows, H], from the whole dL/dh the recurrence left in DStates.</summary>
    public override void OwnWeightGradients(RnnPass pass, int layer, int direction)
    {
        var c = pass.Config;
        if (c.ProjSize == 0) return;
        pass.Accelerator.Gemm(GemmSpec.Dense(true, false, c.ProjSize, c.HiddenSize, pass.Layout.Rows), pass.DStates(layer, direction),
            pass.Buffers.Extra(layer, direction), pass.Model.Gradient(ParameterLayout.WeightHr(layer, direction)));
    }

    private static Slice ProjectionWeight(RnnPass pass, int layer, int direction) =>
        pass.Config.ProjSize > 0 ? pass.Model.Parameter(ParameterLayout.WeightHr(layer, direction)) : default;
}
