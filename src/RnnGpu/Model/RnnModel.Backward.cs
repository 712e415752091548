using RnnGpu.Accelerators;
using RnnGpu.Training;

namespace RnnGpu.Model;

public sealed partial class RnnModel
{
    /// <summary>
    /// Backpropagation through time over a workspace after <see cref="ForwardDevice"/> and a loss
    /// that wrote dL/dy into the output gradient (DHeadOutput, or the top layer's DStates without a head).
    /// Overwrites <see cref="Gradients"/>, DInitialState and (when asked) DInput.
    /// Per layer: one fused launch per step backwards in time, then each weight gradient as one GEMM
    /// over all steps and the bias gradients as one column sum.
    /// </summary>
    internal void BackwardDevice(RnnWorkspace ws, bool inputGradient)
    {
        var acc = Accelerator;
        var bw = ws.Backward;
        int batch = ws.Batch, time = ws.Time, hidden = Config.HiddenSize, tb = time * batch, top = Config.NumLayers - 1;

        if (bw.DHeadOutput is { } dY)
        {
            int o = Config.OutputSize;
            // dW_o = dY^T h: [O, T*B] x [T*B, H];  db_o = Σ dY;  dh_top = dY W_o: [T*B, O] x [O, H]
            acc.Gemm(GemmSpec.Dense(true, false, o, hidden, tb), dY, ws.Outputs(top), Gradient(ParameterLayout.HeadWeight));
            acc.ColumnSum(tb, o, dY, Gradient(ParameterLayout.HeadBias), 0f);
            acc.Gemm(GemmSpec.Dense(false, false, tb, hidden, o), dY, Parameter(ParameterLayout.HeadWeight), bw.DStates[top]);
        }

        for (int l = top; l >= 0; l--)
        {
            Slice dPre = bw.DStates[l];                          // [T*B, H]: dL/dh in, dL/dpre out
            var wHh = Parameter(ParameterLayout.WeightHh(l));
            DeviceBuffer dhNext = bw.DhA, dhPrev = bw.DhB;
            acc.Fill(dhNext, 0f);
            for (int t = time - 1; t >= 0; t--)
            {
                acc.RnnStepBackward(Config.Nonlinearity, batch, hidden, ws.State(l, t + 1), wHh, dhNext,
                    dPre.Sub(t * ws.StepSize, ws.StepSize), dhPrev);
                (dhNext, dhPrev) = (dhPrev, dhNext);
            }
            acc.Copy(dhNext, bw.DInitialState.Slice(l * ws.StepSize, ws.StepSize));

            int inSize = Config.LayerInputSize(l);
            Slice x = l == 0 ? ws.Input : ws.Outputs(l - 1);
            // dW_hh = dPre^T h_prev: [H, T*B] x [T*B, H];  dW_ih = dPre^T x: [H, T*B] x [T*B, in]
            acc.Gemm(GemmSpec.Dense(true, false, hidden, hidden, tb), dPre, ws.PreviousStates(l), Gradient(ParameterLayout.WeightHh(l)));
            acc.Gemm(GemmSpec.Dense(true, false, hidden, inSize, tb), dPre, x, Gradient(ParameterLayout.WeightIh(l)));
            acc.ColumnSum(tb, hidden, dPre, Gradient(ParameterLayout.BiasIh(l)), 0f);
            acc.Copy(Gradient(ParameterLayout.BiasIh(l)), Gradient(ParameterLayout.BiasHh(l)));

            // dx = dPre W_ih: [T*B, H] x [H, in], the output gradient of the layer below (or of the input).
            if (l > 0 || inputGradient)
                acc.Gemm(GemmSpec.Dense(false, false, tb, inSize, hidden), dPre, Parameter(ParameterLayout.WeightIh(l)),
                    l > 0 ? bw.DStates[l - 1] : bw.DInput);
        }
    }

    /// <summary>
    /// Loss and every gradient for one batch: parameters (by PyTorch name), input [B, T, I] and
    /// initial state [L, B, H]. Does not change the weights. Target: see <see cref="LossKind"/>.
    /// </summary>
    public GradientResult ComputeGradients(Tensor input, Tensor target, LossKind loss, Tensor? initialState = null)
    {
        var (batch, time) = CheckInput(input);
        var ws = Workspace(batch, time);
        LoadInputs(ws, input, initialState);
        ForwardDevice(ws);
        double value = Losses.Evaluate(this, ws, target, loss);
        BackwardDevice(ws, inputGradient: true);

        var all = Accelerator.ToArray(Gradients);
        var grads = Layout.Parameters.ToDictionary(p => p.Name, p => new Tensor(all.AsSpan((int)p.Offset, (int)p.Length).ToArray(), p.Shape));
        var dxt = Accelerator.ToArray(ws.Backward.DInput);
        var dx = new float[dxt.Length];
        SequenceLayout.TimeToBatchMajor(dxt, batch, time, Config.InputSize, dx);
        var dh0 = Accelerator.ToArray(ws.Backward.DInitialState);
        return new GradientResult(value, grads,
            new Tensor(dx, batch, time, Config.InputSize),
            new Tensor(dh0, Config.NumLayers, batch, Config.HiddenSize));
    }
}

/// <summary>The loss and its gradients with respect to every parameter, the input and the initial state.</summary>
public sealed record GradientResult(double Loss, IReadOnlyDictionary<string, Tensor> Parameters, Tensor Input, Tensor InitialState);
