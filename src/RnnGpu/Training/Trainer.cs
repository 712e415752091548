using RnnGpu.Model;

namespace RnnGpu.Training;

/// <summary>
/// One optimizer step per batch, or with truncated BPTT one step per chunk of <see cref="Bptt"/>
/// time steps, the hidden state carried (detached) from chunk to chunk. Each step: forward, loss,
/// backward, gradient norm, optional clipping by global norm, update. A non-finite loss or gradient
/// raises <see cref="NonFiniteException"/> before the update, so the weights stay as they were.
/// </summary>
public sealed class Trainer
{
    public Trainer(RnnModel model, Optimizer optimizer, LossKind loss, float? clipNorm = null, int? bptt = null)
    {
        if (clipNorm is { } c && !(c > 0 && float.IsFinite(c))) throw new ShapeException($"clip norm {c} must be a positive finite number");
        if (bptt is < 1) throw new ShapeException($"truncated BPTT length {bptt} must be at least 1");
        Model = model;
        Optimizer = optimizer;
        Loss = loss;
        ClipNorm = clipNorm;
        Bptt = bptt;
    }

    public RnnModel Model { get; }
    public Optimizer Optimizer { get; }
    public LossKind Loss { get; }
    public float? ClipNorm { get; }
    public int? Bptt { get; }

    /// <summary>
    /// Trains on one batch: input [B, T, I], target as <see cref="LossKind"/> says, initial state
    /// [L, B, H] or zeros. Returns the loss before the update (averaged over chunks, weighted by
    /// their length), the last chunk's gradient norm before clipping, and the final state.
    /// </summary>
    public TrainStepResult Step(Tensor input, Tensor target, Tensor? initialState = null)
    {
        var model = Model;
        var acc = model.Accelerator;
        var (batch, time) = model.CheckInput(input);
        var targetTm = Losses.PrepareTarget(model.Config, target, Loss, batch, time);
        var inputTm = new float[input.Length];
        SequenceLayout.BatchToTimeMajor(input.Data, batch, time, model.Config.InputSize, inputTm);

        int chunk = Math.Min(Bptt ?? time, time);
        int inWidth = model.Config.InputSize, targetWidth = targetTm.Length / (batch * time);
        RnnWorkspace? previous = null;
        double weightedLoss = 0, norm = 0;
        for (int t0 = 0; t0 < time; t0 += chunk)
        {
            int len = Math.Min(chunk, time - t0);
            var ws = model.Workspace(batch, len);
            acc.CopyIn(inputTm.AsSpan(t0 * batch * inWidth, len * batch * inWidth), ws.Input);
            if (previous is null) model.SetInitialState(ws, initialState);
            else
                for (int l = 0; l < model.Config.NumLayers; l++)
                    acc.Copy(previous.State(l, previous.Time), ws.State(l, 0));

            double loss;
            try
            {
                model.ForwardDevice(ws);
                loss = Losses.Evaluate(model, ws, targetTm.AsSpan(t0 * batch * targetWidth, len * batch * targetWidth), Loss);
                model.BackwardDevice(ws, inputGradient: false);
                norm = ClipGradients();
            }
            catch (NonFiniteException e) when (t0 > 0)
            {
                throw new NonFiniteException($"truncated BPTT chunk at steps [{t0}, {t0 + len}): {e.Message}; the {t0 / chunk} earlier chunk(s) of this batch were applied");
            }
            Optimizer.Step(model);
            weightedLoss += loss * len;
            previous = ws;
        }
        return new TrainStepResult(weightedLoss / time, norm, model.FinalState(previous!));
    }

    /// <summary>Global L2 norm of all gradients; scales them by clip / (norm + 1e-6) when above the clip, as torch.nn.utils.clip_grad_norm_.</summary>
    private double ClipGradients()
    {
        var acc = Model.Accelerator;
        double norm = Math.Sqrt(acc.SquaredNorm(Model.Gradients));
        if (!double.IsFinite(norm))
            throw new NonFiniteException($"the gradient norm is {norm}: the step was stopped and the weights are unchanged");
        if (ClipNorm is { } clip)
        {
            double coef = clip / (norm + 1e-6);
            if (coef < 1) acc.Scale(Model.Gradients, (float)coef);
        }
        return norm;
    }
}

/// <summary>Loss before the update, gradient norm before clipping, and the final state [L, B, H].</summary>
public sealed record TrainStepResult(double Loss, double GradientNorm, Tensor FinalState);
