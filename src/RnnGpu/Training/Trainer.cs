using RnnGpu.Model;

namespace RnnGpu.Training;

/// <summary>
/// One optimizer step per batch, or with truncated BPTT one step per chunk of <see cref="Bptt"/>
/// time steps, the hidden state carried (detached) from chunk to chunk. Each step: forward (with
/// dropout between layers when the model has it), loss, backward, gradient norm, optional clipping by
/// global norm, update. A non-finite loss or gradient raises <see cref="NonFiniteException"/> before
/// the update, so the weights stay as they were.
/// </summary>
public sealed class Trainer
{
    private readonly DropoutMasks? _dropout;

    public Trainer(RnnModel model, Optimizer optimizer, LossKind loss, float? clipNorm = null, int? bptt = null, int seed = 0)
    {
        GradientClipping.Check(clipNorm);
        if (bptt is < 1) throw new ShapeException($"truncated BPTT length {bptt} must be at least 1");
        if (bptt is not null && model.Config.Bidirectional)
            throw new ShapeException("truncated BPTT needs the future of each chunk for a bidirectional model; train it on whole sequences");
        if (bptt is not null && model.Config.ManyToOne)
            throw new ShapeException("a many-to-one model has one loss at the end of each sequence; train it on whole sequences, without --bptt");
        Model = model;
        Optimizer = optimizer;
        Loss = loss;
        ClipNorm = clipNorm;
        Bptt = bptt;
        _dropout = model.Config.Dropout > 0 ? new DropoutMasks(model.Config.Dropout, seed) : null;
    }

    public RnnModel Model { get; }
    public Optimizer Optimizer { get; }
    public LossKind Loss { get; }
    public float? ClipNorm { get; }
    public int? Bptt { get; }

    /// <summary>
    /// Trains on one batch: input [B, T, I], target as <see cref="LossKind"/> says, initial state
    /// [L * D, B, S] (and an LSTM's initial cell state [L * D, B, H]) or zeros, each sequence to its length (all T when null). Returns the loss before
    /// the update (averaged over chunks, weighted by their real steps), the last chunk's gradient norm
    /// before clipping, and the final state.
    /// </summary>
    public TrainStepResult Step(Tensor input, Tensor target, Tensor? initialState = null, IReadOnlyList<int>? lengths = null, Tensor? initialCell = null)
    {
        var model = Model;
        var (batch, time) = model.CheckInput(input);
        var full = StepLayout.ForLengths(batch, time, lengths);
        Losses.CheckTarget(model.Config, target, Loss, full);   // every check before the first update

        int chunk = Math.Min(Bptt ?? time, time);
        RnnPass? previous = null;
        double weightedLoss = 0, norm = 0;
        for (int t0 = 0; t0 < time; t0 += chunk)
        {
            int len = Math.Min(chunk, time - t0);
            var layout = len == time ? full : full.Chunk(t0, len);
            if (layout.Rows == 0) continue;   // every sequence ended before this chunk
            var pass = model.Pass(batch, len);
            pass.Layout = layout;
            var x = len == time ? input : SliceTime(input, t0, len);
            pass.UploadInput(x.Data);
            if (previous is null) pass.SetInitialState(initialState, initialCell);
            else previous.CarryStateTo(pass);

            double loss;
            try
            {
                var y = len == time ? target : SliceTime(target, t0, len);
                pass.Forward(model.MaskSource(pass, _dropout));
                var packedTarget = Losses.PackCheckedTarget(model.Config, y, Loss, layout, Losses.TargetSpace(pass), model.HostThreads);
                loss = Losses.Evaluate(pass, packedTarget, Loss);
                pass.Backward(inputGradient: false, dropout: _dropout is not null);
                norm = GradientClipping.Clip(ClipNorm, Model);
            }
            catch (NonFiniteException e) when (t0 > 0)
            {
                throw new NonFiniteException($"truncated BPTT chunk at steps [{t0}, {t0 + len}): {e.Message}; the earlier chunks of this batch were applied");
            }
            Optimizer.Step(model);
            weightedLoss += loss * layout.Rows;
            previous = pass;
        }
        return new TrainStepResult(weightedLoss / full.Rows, norm, previous!.FinalState(), model.Config.HasCellState ? previous.FinalCell() : null);
    }

    /// <summary>Steps [t0, t0 + len) of a batch-first [B, T, ...] tensor.</summary>
    private static Tensor SliceTime(Tensor t, int t0, int len)
    {
        int batch = t.Shape[0], time = t.Shape[1], f = t.Rank == 3 ? t.Shape[2] : 1;
        var data = new float[batch * len * f];
        for (int b = 0; b < batch; b++)
            Array.Copy(t.Data, (b * time + t0) * f, data, b * len * f, len * f);
        return t.Rank == 3 ? new Tensor(data, batch, len, f) : new Tensor(data, batch, len);
    }
}

/// <summary>Loss before the update, gradient norm before clipping, the final state [L * D, B, S] and an LSTM's final cell state [L * D, B, H].</summary>
public sealed record TrainStepResult(double Loss, double GradientNorm, Tensor FinalState, Tensor? FinalCell = null);
