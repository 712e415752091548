using System.Runtime.CompilerServices;

namespace RnnGpu.Accelerators.Cpu;

/// <summary>
/// The recurrence of an LSTM or a GRU over many rows as one <see cref="CpuTeam"/> job, forward and
/// BPTT, in either direction over packed steps (<see cref="PackedSteps"/>): the persistent recurrence of
/// <see cref="CpuRecurrence"/> with the gate kernels inside. Each member owns a stripe of unit blocks (Nr units, the
/// micro-kernel's width), packs its columns of W_hh once per call (panels [K][Nr], as <see cref="GemmBlocked{TKernel}"/>
/// packs B on every product) and, step after step, multiplies the previous step's rows by them with the blocked GEMM's
/// micro-kernel, each panel slice held in L1 while every row tile passes. One barrier per step:
/// forward, a member's gates (<see cref="CpuGates"/>) need only its own units' products; backward, the gate gradients of all
/// units meet at the barrier, then dL/dh_prev = dGates W_hh is made by the owner of each unit's column, which is the member
/// that reads it in the next step's gate gradients. Every element is summed as the blocked GEMM sums it (K in slices of
/// 256, one FMA chain each, edge tiles stored with the full tiles' rounding), so a row's result depends neither on the
/// team's size nor on the step's other rows (batch-invariant runs may take it).
/// An LSTM's projection (h = m W_hr^T, P columns in blocks of Nr too) costs a second barrier per step: forward between
/// the gates (every unit of m) and the projection (every column of h, which the next step's products read); backward
/// between dL/dh_prev (every column) and the next step's dm = dh W_hr.
/// </summary>
internal sealed unsafe class CpuGatedBlockedRecurrence<TKernel> : IGatedBlockedRecurrence, ITeamWork where TKernel : IGemmKernel
{
    private const int Kc = 256;
    private const long TeamFlopsPerStep = 1L << 17;    // below this a step is too short to share

    [ThreadStatic] private static CpuGatedBlockedRecurrence<TKernel>? _cached;
    [ThreadStatic] private static PinnedScratch? _panels;   // the caller's packed W_hh

    private readonly TeamBarrier _barrier = new();
    private bool _lstm, _backward, _reverse;
    private int _hidden, _proj, _gateCount, _time;
    private int[] _rows = [];
    private float* _packed;
    // Forward: h0, c0 (LSTM), wHh, wHr and cellOutputs (LSTM with a projection), bias (GRU's b_hh), gates, cells (LSTM),
    // states, hn and scratch (GRU). Backward: also dStates, dGates, dGatesHidden (GRU), dh, dc (LSTM), scratch (dm with a projection).
    private float* _h0, _c0, _w, _wr, _cellOutputs, _bias, _gates, _cells, _states, _hn, _scratch;
    private float* _dStates, _dGates, _dGatesHidden, _dh, _dc;

    public bool SharesStandAlone => false;

    public void Abandon() => _barrier.Break();

    /// <summary>This thread's job object (the caller's: its packed W_hh is kept for the next call).</summary>
    public static CpuGatedBlockedRecurrence<TKernel> ForThisThread() => _cached ??= new CpuGatedBlockedRecurrence<TKernel>();

    public void LstmForward(ReadOnlySpan<int> stepRows, int hidden, int proj, float* h0, float* c0, float* wHh, float* wHr, float* gates, float* cells,
        float* cellOutputs, float* states, bool reverse, int threads)
    {
        Set(stepRows, hidden, proj, lstm: true, backward: false, reverse);
        _h0 = h0;
        _c0 = c0;
        _w = wHh;
        _wr = wHr;
        _cellOutputs = cellOutputs;
        _gates = gates;
        _cells = cells;
        _states = states;
        Start(threads);
    }

    public void GruForward(ReadOnlySpan<int> stepRows, int hidden, float* h0, float* wHh, float* bHh, float* gates, float* hn, float* states,
        float* scratch, bool reverse, int threads)
    {
        Set(stepRows, hidden, 0, lstm: false, backward: false, reverse);
        _h0 = h0;
        _w = wHh;
        _bias = bHh;
        _gates = gates;
        _hn = hn;
        _states = states;
        _scratch = scratch;
        Start(threads);
    }

    public void LstmBackward(ReadOnlySpan<int> stepRows, int hidden, int proj, float* c0, float* wHh, float* wHr, float* gates, float* cells,
        float* dStates, float* dGates, float* dh, float* dc, float* scratch, bool reverse, int threads)
    {
        Set(stepRows, hidden, proj, lstm: true, backward: true, reverse);
        _c0 = c0;
        _w = wHh;
        _wr = wHr;
        _scratch = scratch;
        _gates = gates;
        _cells = cells;
        _dStates = dStates;
        _dGates = dGates;
        _dh = dh;
        _dc = dc;
        Start(threads);
    }

    public void GruBackward(ReadOnlySpan<int> stepRows, int hidden, float* h0, float* wHh, float* gates, float* hn, float* states, float* dStates,
        float* dGates, float* dGatesHidden, float* dh, bool reverse, int threads)
    {
        Set(stepRows, hidden, 0, lstm: false, backward: true, reverse);
        _h0 = h0;
        _w = wHh;
        _gates = gates;
        _hn = hn;
        _states = states;
        _dStates = dStates;
        _dGates = dGates;
        _dGatesHidden = dGatesHidden;
        _dh = dh;
        Start(threads);
    }

    private void Set(ReadOnlySpan<int> stepRows, int hidden, int proj, bool lstm, bool backward, bool reverse)
    {
        if (_rows.Length < stepRows.Length) _rows = new int[stepRows.Length];
        stepRows.CopyTo(_rows);
        _lstm = lstm;
        _backward = backward;
        _reverse = reverse;
        _hidden = hidden;
        _proj = proj;
        _gateCount = lstm ? 4 : 3;
        _time = stepRows.Length;
    }

    private void Start(int threads)
    {
        try
        {
            _packed = (_panels ??= new PinnedScratch()).For((long)_gateCount * _hidden * StateSize + (long)_proj * _hidden);
            _barrier.Reset();
            long stepFlops = 2L * _rows[0] * _hidden * (_gateCount * StateSize + _proj);
            if (stepFlops < TeamFlopsPerStep) Run(0, 1);
            else CpuTeam.Run(this, threads, (double)stepFlops * _time);
        }
        finally
        {
            // Nothing of the caller's kept past the call.
            _packed = _h0 = _c0 = _w = _wr = _cellOutputs = _bias = _gates = _cells = _states = _hn = _scratch = null;
            _dStates = _dGates = _dGatesHidden = _dh = _dc = null;
        }
    }

    public void Run(int member, int members)
    {
        Pack(Share(member, members), StateShare(member, members));
        var steps = new PackedSteps(_rows.AsSpan(0, _time), _time <= 1024 ? stackalloc long[_time] : new long[_time], _reverse);
        if (_backward) RunBackward(steps, member, members);
        else RunForward(steps, member, members);
    }

    /// <summary>S: the projection's P, else H.</summary>
    private int StateSize => _proj > 0 ? _proj : _hidden;

    /// <summary>The unit blocks [B0, B1) of <paramref name="member"/> among <paramref name="members"/>.</summary>
    private (int B0, int B1) Share(int member, int members) => Split(_hidden / TKernel.Nr, member, members);

    /// <summary>The member's blocks of the state's S columns: its unit blocks without a projection.</summary>
    private (int B0, int B1) StateShare(int member, int members) => Split(StateSize / TKernel.Nr, member, members);

    private static (int B0, int B1) Split(int blocks, int member, int members) =>
        ((int)((long)blocks * member / members), (int)((long)blocks * (member + 1) / members));

    /// <summary>The gate panels, then the projection's (P H floats).</summary>
    private float* ProjectionPanels => _packed + (long)_gateCount * _hidden * StateSize;

    /// <summary>
    /// The member's panels, each [K][Nr]. Forward, K = S and unit block u's panel for gate q is columns [qH + u Nr, +Nr) of
    /// W_hh^T (rows of W_hh [gH, S]), at panel index u g + q; the projection's state block v, columns [v Nr, +Nr) of W_hr^T
    /// ([H][Nr]). Backward, K = gH and state block v's one panel is columns [v Nr, +Nr) of W_hh itself; the projection's
    /// unit block u, columns [u Nr, +Nr) of W_hr ([P][Nr]).
    /// </summary>
    private void Pack((int B0, int B1) units, (int B0, int B1) state)
    {
        int h = _hidden, s = StateSize, g = _gateCount * h, nr = TKernel.Nr;
        if (_backward)
        {
            var spec = new GemmSpec(false, false, 0, s, g, 1f, 0f, 0, s, 0);
            for (int v = state.B0; v < state.B1; v++)
                GemmPacking.PackB(spec, _w, 0, g, v * nr, nr, nr, _packed + (long)v * g * nr);
            if (_proj == 0) return;
            var projection = new GemmSpec(false, false, 0, h, _proj, 1f, 0f, 0, h, 0);
            for (int u = units.B0; u < units.B1; u++)
                GemmPacking.PackB(projection, _wr, 0, _proj, u * nr, nr, nr, ProjectionPanels + (long)u * _proj * nr);
            return;
        }
        var transposed = new GemmSpec(false, true, 0, g, s, 1f, 0f, 0, s, 0);
        for (int u = units.B0; u < units.B1; u++)
        for (int q = 0; q < _gateCount; q++)
            GemmPacking.PackB(transposed, _w, 0, s, q * h + u * nr, nr, nr, _packed + (long)(u * _gateCount + q) * s * nr);
        if (_proj == 0) return;
        var projectionT = new GemmSpec(false, true, 0, _proj, h, 1f, 0f, 0, h, 0);
        for (int v = state.B0; v < state.B1; v++)
            GemmPacking.PackB(projectionT, _wr, 0, h, v * nr, nr, nr, ProjectionPanels + (long)v * h * nr);
    }

    /// <summary>
    /// Step after step: the products of the member's units, then their gates (and, with a projection, after a barrier, its
    /// columns of h = m W_hr^T); a member the barrier lets go leaves.
    /// </summary>
    private void RunForward(in PackedSteps steps, int member, int members)
    {
        int h = _hidden, s = StateSize, g = _gateCount * h;
        float* rowPanels = GemmScratch.For(RowPanelFloats(h));   // the rows of h_prev (S <= H) or of m (H)
        Span<PackedSteps.Segment> segments = stackalloc PackedSteps.Segment[2];
        for (int i = 0; i < steps.Time; i++)
        {
            var (b0, b1) = Share(member, members);
            int t = steps.StepAt(i), u0 = b0 * TKernel.Nr, u1 = b1 * TKernel.Nr;
            long row = steps.FirstRow(t);
            foreach (var seg in segments[..steps.Segments(t, segments)])
            {
                if (b1 == b0) break;
                long first = row + seg.First, source = seg.FromInitial ? seg.First : steps.FirstRow(seg.Source) + seg.First;
                float* hPrev = (seg.FromInitial ? _h0 : _states) + source * s;
                PackRows(hPrev, s, seg.Count, s, rowPanels);
                if (_lstm)
                {
                    // gates += h_prev W_hh^T in place (they hold the input projection with both biases); m = o ⊙ tanh(c).
                    Multiply(rowPanels, seg.Count, s, _gates + first * g, g, 1f, null, b0, b1, _packed, _gateCount);
                    float* cPrev = (seg.FromInitial ? _c0 : _cells) + source * h;
                    CpuGates.LstmForward(seg.Count, h, u0, u1, _gates + first * g, cPrev, _cells + first * h, (_proj > 0 ? _cellOutputs : _states) + first * h);
                }
                else
                {
                    // a = h_prev W_hh^T + b_hh into the scratch's rows of the segment.
                    float* a = _scratch + (long)seg.First * g;
                    Multiply(rowPanels, seg.Count, h, a, g, 0f, _bias, b0, b1, _packed, _gateCount);
                    CpuGates.GruForward(seg.Count, h, u0, u1, _gates + first * g, a, hPrev, _states + first * h, _hn + first * h);
                }
            }
            if (_proj > 0)
            {
                // h_t = m W_hr^T once every unit of m is in, each member its blocks of h's columns.
                if (member >= (members = _barrier.Wait(members))) return;
                var (v0, v1) = StateShare(member, members);
                int rows = steps.Rows(t);
                if (v1 > v0)
                {
                    PackRows(_cellOutputs + row * h, h, rows, h, rowPanels);
                    Multiply(rowPanels, rows, h, _states + row * s, s, 0f, null, v0, v1, ProjectionPanels, 1);
                }
            }
            if (i < steps.Time - 1 && member >= (members = _barrier.Wait(members))) return;
        }
    }

    /// <summary>
    /// Against the order of the forward steps: the gate gradients of the member's units (with a projection from dm = dh W_hr,
    /// its units' columns), the barrier, then its columns of dL/dh_prev = dGates W_hh (LSTM) or dGatesHidden W_hh (GRU, on top
    /// of dh ⊙ z from the gates); with a projection a barrier after them too, since dm reads every column of dh.
    /// </summary>
    private void RunBackward(in PackedSteps steps, int member, int members)
    {
        int h = _hidden, s = StateSize, g = _gateCount * h;
        float* rowPanels = GemmScratch.For(RowPanelFloats(g));   // the rows of dGates (gH) or of dh (S < H)
        Span<PackedSteps.Segment> segments = stackalloc PackedSteps.Segment[2];
        AddFinalGradients(steps, StateShare(member, members));
        if (_proj > 0 && member >= (members = _barrier.Wait(members))) return;
        for (int i = steps.Time - 1; i >= 0; i--)
        {
            var (b0, b1) = Share(member, members);
            int t = steps.StepAt(i), u0 = b0 * TKernel.Nr, u1 = b1 * TKernel.Nr, count = steps.Segments(t, segments);
            long row = steps.FirstRow(t);
            if (_proj > 0 && b1 > b0)
            {
                // dm = dh_t W_hr into the scratch's rows, the member's units.
                int rows = steps.Rows(t);
                PackRows(_dStates + row * s, s, rows, s, rowPanels);
                Multiply(rowPanels, rows, s, _scratch, h, 0f, null, b0, b1, ProjectionPanels, 1);
            }
            for (int k = 0; k < count && b1 > b0; k++)
            {
                var seg = segments[k];
                long first = row + seg.First, source = seg.FromInitial ? seg.First : steps.FirstRow(seg.Source) + seg.First;
                if (_lstm)
                {
                    float* cPrev = (seg.FromInitial ? _c0 : _cells) + source * h;
                    float* dm = _proj > 0 ? _scratch + (long)seg.First * h : _dStates + first * h;
                    CpuGates.LstmBackward(seg.Count, h, u0, u1, _gates + first * g, cPrev, _cells + first * h, dm, _dc + (long)seg.First * h, _dGates + first * g);
                }
                else
                {
                    float* hPrev = (seg.FromInitial ? _h0 : _states) + source * h, dhPrev = (seg.FromInitial ? _dh : _dStates) + source * h;
                    CpuGates.GruBackward(seg.Count, h, u0, u1, _gates + first * g, _hn + first * h, hPrev, _dStates + first * h, _dGates + first * g,
                        _dGatesHidden + first * g, dhPrev, accumulate: !seg.FromInitial);
                }
            }
            if (member >= (members = _barrier.Wait(members))) return;
            var (v0, v1) = StateShare(member, members);
            for (int k = 0; k < count && v1 > v0; k++)
            {
                var seg = segments[k];
                long first = row + seg.First, source = seg.FromInitial ? seg.First : steps.FirstRow(seg.Source) + seg.First;
                float* dhPrev = (seg.FromInitial ? _dh : _dStates) + source * s;
                PackRows((_lstm ? _dGates : _dGatesHidden) + first * g, g, seg.Count, g, rowPanels);
                // The LSTM's dL/dh0 rows take the product alone; every other target adds it to what it holds.
                Multiply(rowPanels, seg.Count, g, dhPrev, s, _lstm && seg.FromInitial ? 0f : 1f, null, v0, v1, _packed, 1);
            }
            if (_proj > 0 && i > 0 && member >= (members = _barrier.Wait(members))) return;
        }
    }

    /// <summary>dStates at each sequence's last step += its dL/d(final state), in the member's state columns, before any of them is read or dh rewritten.</summary>
    private void AddFinalGradients(in PackedSteps steps, (int B0, int B1) share)
    {
        int s = StateSize, c0 = share.B0 * TKernel.Nr, width = (share.B1 - share.B0) * TKernel.Nr;
        if (width == 0) return;
        for (int t = 0; t < steps.Time; t++)
        {
            var (first, count) = steps.Ending(t);
            for (int r = first; r < first + count; r++)
            {
                var target = new Span<float>(_dStates + (steps.FirstRow(t) + r) * s + c0, width);
                CpuVectors.Add(target, new ReadOnlySpan<float>(_dh + (long)r * s + c0, width), target);
            }
        }
    }

    /// <summary>Room for the packed rows of a step's segment: its tiles (<see cref="TileRows"/>), each [k][Mr].</summary>
    private long RowPanelFloats(int k) => ((long)_rows[0] / TKernel.ShortMr + 2) * TKernel.Mr * k;

    /// <summary>
    /// The rows of the next tile with <paramref name="left"/> rows to go: Mr, or the kernel's short tile where it leaves
    /// fewer rows of padding. With 6 and 4 an even count has none (8 = 4 + 4, 10 = 6 + 4, 14 = 6 + 4 + 4).
    /// </summary>
    private static int TileRows(int left)
    {
        int mr = TKernel.Mr, sr = TKernel.ShortMr, rest = left % mr;
        if (sr == mr || rest == 0) return mr;
        if (left <= sr || (rest <= mr - sr && left <= 2 * sr)) return sr;
        return mr;
    }

    /// <summary>Rows [0, rows) of a [rows, k] matrix (leading dimension lda) as tiles of <see cref="TileRows"/>, tile i at rowPanels + i Mr k, each [k][Mr].</summary>
    private static void PackRows(float* a, int lda, int rows, int k, float* rowPanels)
    {
        var spec = new GemmSpec(false, false, rows, 0, k, 1f, 0f, lda, 0, 0);
        for (int r = 0, tile = 0; r < rows; tile++)
        {
            int height = Math.Min(TileRows(rows - r), rows - r);
            GemmPacking.PackA(spec, a, r, height, 0, k, TKernel.Mr, rowPanels + (long)tile * TKernel.Mr * k);
            r += height;
        }
    }

    /// <summary>
    /// C[0..rows, the columns of blocks b0..b1) = A B (+ beta C, + bias [columns] with the last slice of K), A packed by
    /// <see cref="PackRows"/>, B the member's panels from <paramref name="panels"/>: <paramref name="perBlock"/> of them for
    /// each block, one per gate (columns qH + u Nr) for the forward gate products, else one (columns u Nr).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Multiply(float* rowPanels, int rows, int k, float* c, long ldc, float beta, float* bias, int b0, int b1, float* panels, int perBlock)
    {
        int mr = TKernel.Mr, nr = TKernel.Nr;
        float* tile = stackalloc float[mr * nr];
        for (int u = b0; u < b1; u++)
        for (int q = 0; q < perBlock; q++)
        {
            float* panel = panels + (long)(u * perBlock + q) * k * nr;
            int column = q * _hidden + u * nr;
            for (int p0 = 0; p0 < k; p0 += Kc)
            {
                int kc = Math.Min(Kc, k - p0);
                float sliceBeta = p0 == 0 ? beta : 1f;
                float* sliceBias = p0 + kc == k && bias is not null ? bias + column : null;
                float* b = panel + (long)p0 * nr;
                for (int r = 0, i = 0; r < rows; i++)
                {
                    int height = TileRows(rows - r), real = Math.Min(height, rows - r);
                    float* a = rowPanels + (long)i * mr * k + (long)p0 * mr, cTile = c + r * ldc + column;
                    bool isShort = height < mr;
                    if (real == height)
                    {
                        if (isShort) TKernel.RunShort(kc, a, b, nr, cTile, ldc, 1f, sliceBeta, sliceBias);
                        else TKernel.Run(kc, a, b, nr, cTile, ldc, 1f, sliceBeta, sliceBias);
                    }
                    else
                    {
                        // Past the last row: through a scratch tile, stored row by row with the kernel's rounding.
                        if (isShort) TKernel.RunShort(kc, a, b, nr, tile, nr, 1f, 0f, null);
                        else TKernel.Run(kc, a, b, nr, tile, nr, 1f, 0f, null);
                        MergeEdge(tile, nr, cTile, ldc, real, sliceBeta, sliceBias);
                    }
                    r += real;
                }
            }
        }
    }

    /// <summary>The rows of an edge tile inside C, with the blocked GEMM's rounding: t + beta C, then + bias.</summary>
    private static void MergeEdge(float* tile, int nr, float* c, long ldc, int rows, float beta, float* bias)
    {
        for (int r = 0; r < rows; r++, tile += nr, c += ldc)
        for (int j = 0; j < nr; j++)
        {
            float v = MathF.FusedMultiplyAdd(1f, tile[j], beta == 0f ? 0f : beta * c[j]);
            c[j] = bias is null ? v : v + bias[j];
        }
    }
}
