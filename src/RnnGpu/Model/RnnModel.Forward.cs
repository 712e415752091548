using RnnGpu.Accelerators;

namespace RnnGpu.Model;

public sealed partial class RnnModel
{
    /// <summary>
    /// The forward pass over a workspace whose Input and initial states (slot 0 of each layer) are set.
    /// Per layer: one GEMM projects every step's input, then one fused launch per step adds the
    /// recurrent product and the activation in place. Then one GEMM for the head over all steps.
    /// </summary>
    internal void ForwardDevice(RnnWorkspace ws)
    {
        int batch = ws.Batch, time = ws.Time, hidden = Config.HiddenSize, tb = time * batch;
        var acc = Accelerator;
        for (int l = 0; l < Config.NumLayers; l++)
        {
            Slice x = l == 0 ? ws.Input : ws.Outputs(l - 1);     // [T*B, in]
            Slice pre = ws.Outputs(l);                            // [T*B, H], becomes h_1..h_T in place
            acc.Gemm(GemmSpec.Dense(false, true, tb, hidden, Config.LayerInputSize(l)), x, Parameter(ParameterLayout.WeightIh(l)), pre);
            acc.AddBias(tb, hidden, Parameter(ParameterLayout.BiasIh(l)), pre);
            acc.AddBias(tb, hidden, Parameter(ParameterLayout.BiasHh(l)), pre);
            var wHh = Parameter(ParameterLayout.WeightHh(l));
            for (int t = 0; t < time; t++)
            {
                var h = ws.State(l, t + 1);
                acc.RnnStepForward(Config.Nonlinearity, batch, hidden, h, ws.State(l, t), wHh, h);
            }
        }
        if (ws.HeadOutput is { } y)
        {
            // y = h W_o^T + b_o: [T*B, H] x [O, H]^T
            acc.Gemm(GemmSpec.Dense(false, true, tb, Config.OutputSize, hidden), ws.Outputs(Config.NumLayers - 1), Parameter(ParameterLayout.HeadWeight), y);
            acc.AddBias(tb, Config.OutputSize, Parameter(ParameterLayout.HeadBias), y);
        }
    }

    /// <summary>
    /// Runs the model on input [B, T, I] from initial state h0 [L, B, H] (zeros when null).
    /// Returns the outputs [B, T, O] (the head's raw values, or the top layer's states without a head)
    /// and the final state of each layer [L, B, H].
    /// </summary>
    public RnnOutput Forward(Tensor input, Tensor? initialState = null)
    {
        var (batch, time) = CheckInput(input);
        var ws = Workspace(batch, time);
        LoadInputs(ws, input, initialState);
        ForwardDevice(ws);
        return ReadOutputs(ws);
    }

    internal (int Batch, int Time) CheckInput(Tensor input)
    {
        if (input.Rank != 3 || input.Shape[2] != Config.InputSize || input.Shape[0] < 1 || input.Shape[1] < 1)
            throw new ShapeException($"input has shape {input.ShapeText}, expected [batch, time, {Config.InputSize}] with batch and time at least 1");
        CheckFinite(input, "input");
        return (input.Shape[0], input.Shape[1]);
    }

    internal static void CheckFinite(Tensor t, string what)
    {
        int bad = Array.FindIndex(t.Data, v => !float.IsFinite(v));
        if (bad >= 0) throw new ShapeException($"{what} holds a non-finite value ({t.Data[bad]}) at flat index {bad}");
    }

    internal void LoadInputs(RnnWorkspace ws, Tensor input, Tensor? initialState)
    {
        var xt = new float[input.Length];
        SequenceLayout.BatchToTimeMajor(input.Data, ws.Batch, ws.Time, Config.InputSize, xt);
        Accelerator.CopyIn(xt, ws.Input);
        SetInitialState(ws, initialState);
    }

    internal void SetInitialState(RnnWorkspace ws, Tensor? initialState)
    {
        if (initialState is null)
        {
            for (int l = 0; l < Config.NumLayers; l++) Accelerator.Fill(ws.State(l, 0), 0f);
            return;
        }
        int[] expected = [Config.NumLayers, ws.Batch, Config.HiddenSize];
        if (!initialState.Shape.AsSpan().SequenceEqual(expected))
            throw new ShapeException($"initial state has shape {initialState.ShapeText}, expected [{string.Join(", ", expected)}] (layers, batch, hidden)");
        CheckFinite(initialState, "initial state");
        for (int l = 0; l < Config.NumLayers; l++)
            Accelerator.CopyIn(initialState.Data.AsSpan((int)(l * ws.StepSize), (int)ws.StepSize), ws.State(l, 0));
    }

    internal RnnOutput ReadOutputs(RnnWorkspace ws)
    {
        int width = Config.OutputWidth;
        var yt = Accelerator.ToArray(ws.ModelOutput);
        var y = new float[yt.Length];
        SequenceLayout.TimeToBatchMajor(yt, ws.Batch, ws.Time, width, y);
        return new RnnOutput(new Tensor(y, ws.Batch, ws.Time, width), FinalState(ws));
    }

    /// <summary>h_T of every layer: [L, B, H].</summary>
    internal Tensor FinalState(RnnWorkspace ws)
    {
        var h = new float[Config.NumLayers * ws.StepSize];
        for (int l = 0; l < Config.NumLayers; l++)
            Accelerator.CopyOut(ws.State(l, ws.Time), h.AsSpan((int)(l * ws.StepSize), (int)ws.StepSize));
        return new Tensor(h, Config.NumLayers, ws.Batch, Config.HiddenSize);
    }
}

/// <summary>Outputs [B, T, O] and the final state of each layer [L, B, H].</summary>
public sealed record RnnOutput(Tensor Output, Tensor FinalState);
