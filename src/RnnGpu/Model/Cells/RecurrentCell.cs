using RnnGpu.Accelerators;

namespace RnnGpu.Model;

/// <summary>
/// What one kind of recurrent cell brings to a pass: where a layer's input projection goes, its recurrence forwards and
/// backwards (one accelerator call per layer and direction), and which gradients its weights are made from. The pass
/// (<see cref="RnnPass"/>) does the rest alike for every cell: the input projection of all steps in one GEMM before the
/// recurrence, the weight gradients in one GEMM each after it, the head, dropout, states in and out. A further cell is
/// one more subclass (and its accelerator calls); its parameters are PyTorch's, laid out by <see cref="ParameterLayout"/>.
/// </summary>
internal abstract class RecurrentCell
{
    public static RecurrentCell For(CellKind kind) => kind switch
    {
        CellKind.Lstm => LstmCell.Instance,
        CellKind.Gru => GruCell.Instance,
        _ => ElmanCell.Instance,
    };

    /// <summary>Whether b_hh joins b_ih in the input projection's bias (not a GRU's: its n block is multiplied by r).</summary>
    public virtual bool HiddenBiasInProjection => true;

    /// <summary>Where the input projection x W_ih^T + bias of every step goes: [Rows, G * H].</summary>
    public abstract Slice Projection(RnnPass pass, int layer, int direction);

    /// <summary>The recurrence of the first <paramref name="stepRows"/>.Length steps, from the projection to every step's h (the pass's Outputs).</summary>
    public abstract void Forward(RnnPass pass, int layer, int direction, ReadOnlySpan<int> stepRows);

    /// <summary>
    /// BPTT through the recurrence: from dL/dh of every step from above (DStates) and <paramref name="dh"/> [rows of step 0, S],
    /// dL/d(final state) on entry and dL/dh0 on return, to <see cref="InputGradient"/> and <see cref="HiddenGradient"/>.
    /// </summary>
    public abstract void Backward(RnnPass pass, int layer, int direction, ReadOnlySpan<int> stepRows, Slice dh);

    /// <summary>dL/d(the input projection) of every step, [Rows, G * H]: makes dW_ih, db_ih and the input's gradient.</summary>
    public abstract Slice InputGradient(RnnPass pass, int layer, int direction);

    /// <summary>dL/d(h_prev W_hh^T + b_hh) of every step, [Rows, G * H]: makes dW_hh and db_hh. The input's, unless a GRU.</summary>
    public virtual Slice HiddenGradient(RnnPass pass, int layer, int direction) => InputGradient(pass, layer, direction);

    /// <summary>The gradients of the cell's own further weights (an LSTM's W_hr), after <see cref="Backward"/>.</summary>
    public virtual void OwnWeightGradients(RnnPass pass, int layer, int direction) { }
}
