using RnnGpu.Model;

namespace RnnGpu.Accelerators.Cpu;

/// <summary>
/// The forward recurrence of an Elman, LSTM (with or without a projection) or GRU layer with quantized weights as one
/// <see cref="CpuTeam"/> job, in either direction over packed steps. Each member owns a stripe of 8-unit blocks and, step
/// after step, prepares the whole previous state once for itself (<see cref="CpuQuantizedProduct.Prepare"/>: the step's
/// int8 activations and their scales, or bf16's reordered floats), computes its units' rows of every gate block straight
/// from the quantized W_hh (a quarter or half of float32's bytes, staying in its core's cache), then its units' gates or
/// activation, and meets the others at a barrier; an LSTM's projection takes a second barrier, between the gates and
/// h = m W_hr^T over its stripe of h's columns. Each output is made by one member in one order, whatever the team's size.
/// </summary>
internal sealed unsafe class CpuQuantizedRecurrence : ITeamWork
{
    private const long TeamMacsPerStep = 1L << 16;    // below this a step is too short to share

    [ThreadStatic] private static CpuQuantizedRecurrence? _cached;

    private readonly TeamBarrier _barrier = new();
    private readonly PinnedScratch[] _spaces = new PinnedScratch[CpuTeam.MaxThreads];
    private readonly byte*[] _prepared = new byte*[CpuTeam.MaxThreads];
    private readonly float*[] _scales = new float*[CpuTeam.MaxThreads];
    private CellKind _cell;
    private Activation _act;
    private int _hidden, _proj, _time;
    private bool _reverse;
    private int[] _rows = [];
    private QuantizedMatrix? _wHh, _wHr;
    private float* _h0, _c0, _bias, _gates, _cells, _cellOutputs, _states, _hn, _scratch;

    public bool SharesStandAlone => false;

    public void Abandon() => _barrier.Break();

    /// <summary>See <see cref="Accelerator.RnnRecurrenceForward(Activation, ReadOnlySpan{int}, int, Slice, QuantizedMatrix, Slice, bool)"/>.</summary>
    public static void Rnn(Activation act, ReadOnlySpan<int> stepRows, int hidden, float* h0, QuantizedMatrix wHh, float* states, bool reverse, int threads) =>
        Start(CellKind.Rnn, act, stepRows, hidden, 0, h0, null, wHh, null, null, null, null, null, states, null, null, reverse, threads);

    /// <summary>See <see cref="Accelerator.LstmRecurrenceForward(ReadOnlySpan{int}, int, int, Slice, Slice, QuantizedMatrix, QuantizedMatrix?, Slice, Slice, Slice, Slice, bool)"/>.</summary>
    public static void Lstm(ReadOnlySpan<int> stepRows, int hidden, int proj, float* h0, float* c0, QuantizedMatrix wHh, QuantizedMatrix? wHr, float* gates,
        float* cells, float* cellOutputs, float* states, bool reverse, int threads) =>
        Start(CellKind.Lstm, Activation.Tanh, stepRows, hidden, proj, h0, c0, wHh, wHr, null, gates, cells, cellOutputs, states, null, null, reverse, threads);

    /// <summary>See <see cref="Accelerator.GruRecurrenceForward(ReadOnlySpan{int}, int, Slice, QuantizedMatrix, Slice, Slice, Slice, Slice, Slice, bool)"/>.</summary>
    public static void Gru(ReadOnlySpan<int> stepRows, int hidden, float* h0, QuantizedMatrix wHh, float* bHh, float* gates, float* hn, float* states,
        float* scratch, bool reverse, int threads) =>
        Start(CellKind.Gru, Activation.Tanh, stepRows, hidden, 0, h0, null, wHh, null, bHh, gates, null, null, states, hn, scratch, reverse, threads);

    private static void Start(CellKind cell, Activation act, ReadOnlySpan<int> stepRows, int hidden, int proj, float* h0, float* c0, QuantizedMatrix wHh,
        QuantizedMatrix? wHr, float* bias, float* gates, float* cells, float* cellOutputs, float* states, float* hn, float* scratch, bool reverse, int threads)
    {
        var work = _cached ?? new CpuQuantizedRecurrence();
        _cached = null;   // a nested call on this thread (none today) makes its own
        try
        {
            if (work._rows.Length < stepRows.Length) work._rows = new int[stepRows.Length];
            stepRows.CopyTo(work._rows);
            (work._cell, work._act, work._hidden, work._proj, work._time, work._reverse) = (cell, act, hidden, proj, stepRows.Length, reverse);
            (work._wHh, work._wHr) = (wHh, wHr);
            work._h0 = h0;
            work._c0 = c0;
            work._bias = bias;
            work._gates = gates;
            work._cells = cells;
            work._cellOutputs = cellOutputs;
            work._states = states;
            work._hn = hn;
            work._scratch = scratch;
            // The widest K prepared is the state's (S) or, for the projection, H: S never exceeds H.
            long bytes = (long)stepRows[0] * CpuQuantizedProduct.RowBytes(wHh.Kind, hidden);
            int members = Math.Clamp(threads, 1, CpuTeam.MaxThreads);
            for (int m = 0; m < members; m++)
            {
                work._prepared[m] = (byte*)(work._spaces[m] ??= new PinnedScratch()).For(bytes / sizeof(float) + stepRows[0] + 16);
                work._scales[m] = (float*)(work._prepared[m] + (bytes + 63) / 64 * 64);
            }
            work._barrier.Reset();
            long stepMacs = (long)stepRows[0] * wHh.Rows * wHh.Cols + (wHr is null ? 0 : (long)stepRows[0] * wHr.Rows * wHr.Cols);
            if (stepMacs < TeamMacsPerStep || members == 1) work.Run(0, 1);
            else CpuTeam.Run(work, members, 2.0 * stepMacs * stepRows.Length);
        }
        finally
        {
            work._h0 = work._c0 = work._bias = work._gates = work._cells = work._cellOutputs = work._states = work._hn = work._scratch = null;
            (work._wHh, work._wHr) = (null, null);
            _cached = work;
        }
    }

    public void Run(int member, int members)
    {
        Span<PackedSteps.Segment> segments = stackalloc PackedSteps.Segment[2];
        var steps = new PackedSteps(_rows.AsSpan(0, _time), _time <= 1024 ? stackalloc long[_time] : new long[_time], _reverse);
        for (int i = 0; i < _time; i++)
        {
            int t = steps.StepAt(i);
            int count = steps.Segments(t, segments);
            var stepSegments = segments[..count];
            PrepareState(member, steps, t, stepSegments);
            var (u0, u1) = CpuQuantizedProduct.Stripe(_hidden, member, members);
            if (u1 > u0) Gates(member, steps, t, stepSegments, u0, u1);
            if (_proj > 0)
            {
                if (member >= (members = _barrier.Wait(members))) return;
                Project(member, members, steps, t);
            }
            if (i < _time - 1 && member >= (members = _barrier.Wait(members))) return;
        }
    }

    /// <summary>The previous state of step t's rows, segment by segment, into this member's prepared rows.</summary>
    private void PrepareState(int member, in PackedSteps steps, int t, ReadOnlySpan<PackedSteps.Segment> segments)
    {
        int s = _proj > 0 ? _proj : _hidden, rowBytes = CpuQuantizedProduct.RowBytes(_wHh!.Kind, s);
        foreach (var seg in segments)
        {
            float* source = seg.FromInitial ? _h0 + (long)seg.First * s : _states + (steps.FirstRow(seg.Source) + seg.First) * s;
            CpuQuantizedProduct.Prepare(_wHh.Kind, source, seg.Count, s, s, _prepared[member] + (long)seg.First * rowBytes, _scales[member] + seg.First);
        }
    }

    /// <summary>Step t for the units [u0, u1): their rows of every gate block from the prepared state, then their gates.</summary>
    private void Gates(int member, in PackedSteps steps, int t, ReadOnlySpan<PackedSteps.Segment> segments, int u0, int u1)
    {
        int h = _hidden, s = _proj > 0 ? _proj : h, rows = steps.Rows(t);
        long row = steps.FirstRow(t);
        byte* prepared = _prepared[member];
        float* scales = _scales[member];
        var w = _wHh!;
        switch (_cell)
        {
            case CellKind.Rnn:
                // states of step t hold its pre-activations on entry: h = act(pre + hPrev W_hh^T).
                CpuQuantizedProduct.Rows(prepared, scales, rows, s, w, 0, _states + row * h, h, u0, u1, accumulate: true, null);
                for (int r = 0; r < rows; r++) CpuActivation.Forward(_act, _states + (row + r) * h + u0, u1 - u0);
                return;
            case CellKind.Lstm:
            {
                float* gates = _gates + row * 4 * h;
                for (int k = 0; k < 4; k++) CpuQuantizedProduct.Rows(prepared, scales, rows, s, w, 0, gates, 4 * h, k * h + u0, k * h + u1, accumulate: true, null);
                float* m = _proj > 0 ? _cellOutputs : _states;
                foreach (var seg in segments)
                {
                    long first = row + seg.First, source = seg.FromInitial ? seg.First : steps.FirstRow(seg.Source) + seg.First;
                    float* cPrev = (seg.FromInitial ? _c0 : _cells) + source * h;
                    CpuGates.LstmForward(seg.Count, h, u0, u1, _gates + first * 4 * h, cPrev, _cells + first * h, m + first * h);
                }
                return;
            }
            default:
            {
                // a = hPrev W_hh^T + b_hh into the scratch [rows, 3H]: the n block is multiplied by r.
                for (int k = 0; k < 3; k++)
                    CpuQuantizedProduct.Rows(prepared, scales, rows, s, w, 0, _scratch, 3 * h, k * h + u0, k * h + u1, accumulate: false, _bias);
                foreach (var seg in segments)
                {
                    long first = row + seg.First;
                    float* hPrev = seg.FromInitial ? _h0 + (long)seg.First * h : _states + (steps.FirstRow(seg.Source) + seg.First) * h;
                    CpuGates.GruForward(seg.Count, h, u0, u1, _gates + first * 3 * h, _scratch + (long)seg.First * 3 * h, hPrev, _states + first * h,
                        _hn + first * h);
                }
                return;
            }
        }
    }

    /// <summary>An LSTM's h = m W_hr^T of step t over this member's stripe of h's P columns, once every unit's m is made.</summary>
    private void Project(int member, int members, in PackedSteps steps, int t)
    {
        var (p0, p1) = CpuQuantizedProduct.Stripe(_proj, member, members);
        if (p1 <= p0) return;
        int rows = steps.Rows(t);
        long row = steps.FirstRow(t);
        var w = _wHr!;
        CpuQuantizedProduct.Prepare(w.Kind, _cellOutputs + row * _hidden, rows, _hidden, _hidden, _prepared[member], _scales[member]);
        CpuQuantizedProduct.Rows(_prepared[member], _scales[member], rows, _hidden, w, 0, _states + row * _proj, _proj, p0, p1, accumulate: false, null);
    }
}
