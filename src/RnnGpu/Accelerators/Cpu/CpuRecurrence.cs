using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics.X86;

namespace RnnGpu.Accelerators.Cpu;

/// <summary>
/// A layer's whole recurrence on the CPU as one <see cref="CpuTeam"/> job, the CPU's counterpart of the CUDA
/// persistent kernel. Each member owns a stripe of 32-column panels of the output, packs its own columns of
/// W_hh once (they stay in its core's L2 for every step) and waits on a spinning barrier once per step, so a
/// step costs one barrier instead of a thread hand-off. Forward: h_t[:, stripe] = act(pre_t + h_{t-1} W_hh^T).
/// Backward: the gradient into step t - 1 is made stripe by stripe as dPre_t W_hh, and folded at once into
/// dPre_{t-1} = (dPre_{t-1} + dh_{t-1}) * act'(h_{t-1}) by the member that made it, so one barrier per step
/// suffices there too. Each output is computed by one member, in one order, whatever the team's size.
/// Rows past the last group of 8 run 4-, 2- and 1-row kernels over several panels a call, with the 8-row kernel's
/// order, so a row's result does not depend on how many rows share its group of 8; only on a last panel narrower than
/// 32 columns does a default-mode run take the one-row kernel that sums in another order (batch-invariant runs never do).
/// Packed sequences (sorted longest first, <see cref="ForwardPacked"/>) run the first rows_t rows at step t, so a
/// batch of different lengths is one job too, with W_hh packed once.
/// AVX-512 only (and not on a thread whose GEMM ISA a test narrowed); other machines take the step loop of <see cref="Accelerator"/>.
/// </summary>
internal sealed unsafe class CpuRecurrence : ITeamWork
{
    private const int Panel = RecurrenceKernels.Columns;
    private const long TeamFlopsPerStep = 1L << 17;    // below this a step is too short to share

    [ThreadStatic] private static CpuRecurrence? _cached;
    [ThreadStatic] private static PinnedScratch? _panels;   // the packed W_hh of the caller's jobs

    private readonly TeamBarrier _barrier = new();
    private Activation _act;
    private int _batch, _hidden, _time;
    private int[] _stepRows = [];       // packed runs: rows of each step (else every step has _batch)
    private long[] _stepOffsets = [];   // packed runs: first row of each step's block
    private bool _packedSteps;
    private bool _reverse, _backward, _invariant;
    private float* _w, _h0, _states, _dPre, _dh, _packed;

    public static bool Supported => GemmIsaChoice.Current == GemmIsa.Vector512;

    /// <summary>Members meet at a barrier every step.</summary>
    public bool SharesStandAlone => false;

    public void Abandon() => _barrier.Break();

    /// <summary>See <see cref="Accelerator.RnnRecurrenceForward"/> (a uniform run): states holds pre_1..pre_T on entry, h_1..h_T on return.</summary>
    public static void Forward(Activation act, int batch, int hidden, int time, float* h0, float* wHh, float* states, bool reverse, bool invariant,
        int threads) =>
        Start(Take(), act, batch, hidden, time, wHh, reverse, backward: false, invariant, threads, h0, states, null, null);

    /// <summary>See <see cref="Accelerator.RnnRecurrenceForward"/> (packed, forwards): step t runs the first stepRows[t] rows, its block right after step t - 1's.</summary>
    public static void ForwardPacked(Activation act, ReadOnlySpan<int> stepRows, int hidden, float* h0, float* wHh, float* states, bool invariant,
        int threads)
    {
        var work = Take();
        if (work._stepRows.Length < stepRows.Length)
            (work._stepRows, work._stepOffsets) = (new int[stepRows.Length], new long[stepRows.Length]);
        long offset = 0;
        for (int t = 0; t < stepRows.Length; t++)
        {
            work._stepRows[t] = stepRows[t];
            work._stepOffsets[t] = offset;
            offset += stepRows[t];
        }
        work._packedSteps = true;
        Start(work, act, stepRows[0], hidden, stepRows.Length, wHh, reverse: false, backward: false, invariant, threads, h0, states, null, null);
    }

    /// <summary>See <see cref="Accelerator.RnnRecurrenceBackward"/> (a uniform run): outputs h_1..h_T; dPre in place; dh in (dL/dh_T) and out (dL/dh_0).</summary>
    public static void Backward(Activation act, int batch, int hidden, int time, float* outputs, float* wHh, float* dPre, float* dh, bool reverse,
        int threads) =>
        Start(Take(), act, batch, hidden, time, wHh, reverse, backward: true, invariant: false, threads, null, outputs, dPre, dh);

    /// <summary>This thread's job object; a nested call on this thread (none today) would make its own.</summary>
    private static CpuRecurrence Take()
    {
        var work = _cached ?? new CpuRecurrence();
        _cached = null;
        return work;
    }

    private static void Start(CpuRecurrence work, Activation act, int batch, int hidden, int time, float* w, bool reverse, bool backward, bool invariant,
        int threads, float* h0, float* states, float* dPre, float* dh)
    {
        if (time == 0)
        {
            work._packedSteps = false;
            _cached = work;
            return;
        }
        int panels = (hidden + Panel - 1) / Panel;
        try
        {
            (work._act, work._batch, work._hidden, work._time, work._reverse, work._backward, work._invariant) =
                (act, batch, hidden, time, reverse, backward, invariant);
            work._w = w;
            work._h0 = h0;
            work._states = states;
            work._dPre = dPre;
            work._dh = dh;
            work._packed = (_panels ??= new PinnedScratch()).For((long)panels * hidden * Panel);
            work._barrier.Reset();
            if (2L * batch * hidden * hidden < TeamFlopsPerStep) work.Run(0, 1);
            else CpuTeam.Run(work, threads, 2.0 * batch * hidden * hidden * time);
        }
        finally
        {
            work._w = work._h0 = work._states = work._dPre = work._dh = work._packed = null;
            work._packedSteps = false;
            _cached = work;
        }
    }

    public void Run(int member, int members)
    {
        var (p0, p1) = Share(member, members);
        Pack(p0, p1);
        if (_backward) RunBackward(member, members);
        else RunForward(member, members);
    }

    /// <summary>The panels [p0, p1) of <paramref name="member"/> among <paramref name="members"/>.</summary>
    private (int P0, int P1) Share(int member, int members)
    {
        int panels = (_hidden + Panel - 1) / Panel;
        return ((int)((long)panels * member / members), (int)((long)panels * (member + 1) / members));
    }

    /// <summary>The time block of forward step s (in the order the steps run).</summary>
    private float* Block(float* buffer, int s) =>
        _packedSteps ? buffer + _stepOffsets[s] * _hidden : buffer + (long)(_reverse ? _time - 1 - s : s) * _batch * _hidden;

    /// <summary>Rows running at forward step s.</summary>
    private int RowsAt(int s) => _packedSteps ? _stepRows[s] : _batch;

    /// <summary>
    /// Panel p holds columns [32p, 32p + 32) of op(W) as [hidden, 32], zeros past the last column: op(W) = W^T for
    /// the forward product h W^T (column j is row j of W), W itself for the backward product dPre W.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Pack(int p0, int p1)
    {
        int n = _hidden;
        for (int p = p0; p < p1; p++)
        {
            float* dst = _packed + (long)p * n * Panel;
            int j0 = p * Panel, width = Math.Min(Panel, n - j0);
            if (width < Panel) new Span<float>(dst, n * Panel).Clear();
            if (_backward)
            {
                // Row k of the panel is columns [j0, j0 + width) of row k of W, contiguous.
                for (int k = 0; k < n; k++)
                    new ReadOnlySpan<float>(_w + (long)k * n + j0, width).CopyTo(new Span<float>(dst + (long)k * Panel, width));
                continue;
            }
            // Column jj of the panel is row j0 + jj of W: transposed 8 x 8 at a time (a strided copy moves one float a cycle).
            int jj = 0;
            if (GemmTranspose.IsSupported)
                for (; jj + 8 <= width; jj += 8)
                {
                    float* src = _w + (long)(j0 + jj) * n;
                    int k = 0;
                    for (; k + 8 <= n; k += 8) GemmTranspose.Block8x8(src + k, n, dst + (long)k * Panel + jj, Panel);
                    for (; k < n; k++)
                        for (int r = 0; r < 8; r++) dst[(long)k * Panel + jj + r] = src[(long)r * n + k];
                }
            for (; jj < width; jj++)
            {
                float* src = _w + (long)(j0 + jj) * n;
                for (int k = 0; k < n; k++) dst[(long)k * Panel + jj] = src[k];
            }
        }
    }

    /// <summary>Step after step, each member its share of the panels; a member the barrier lets go leaves.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void RunForward(int member, int members)
    {
        var activation = _act == Activation.Tanh ? RecurrenceEpilogue.Tanh : RecurrenceEpilogue.Relu;
        bool descending = false;
        for (int s = 0; s < _time; s++)
        {
            var (p0, p1) = Share(member, members);
            float* prev = s == 0 ? _h0 : Block(_states, s - 1);
            Product(prev, Block(_states, s), null, p0, p1, activation, RowsAt(s), ref descending);
            if (s < _time - 1 && member >= (members = _barrier.Wait(members))) return;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void RunBackward(int member, int members)
    {
        var gradient = _act == Activation.Tanh ? RecurrenceEpilogue.TanhGradient : RecurrenceEpilogue.ReluGradient;
        // The last step's dPre takes the gradient from outside the layer; that part of dh is then free to receive dL/dh_0.
        var (p0, p1) = Share(member, members);
        int c0 = p0 * Panel, c1 = Math.Min(p1 * Panel, _hidden);
        float* last = Block(_dPre, _time - 1), lastH = Block(_states, _time - 1);
        for (int b = 0; b < _batch && c1 > c0; b++)
        {
            long at = (long)b * _hidden + c0;
            var dPre = new Span<float>(last + at, c1 - c0);
            var dh = new Span<float>(_dh + at, c1 - c0);
            CpuElementwise.ActivationBackward(_act, new Span<float>(lastH + at, c1 - c0), dh, dPre);
            dh.Clear();
        }
        if (member >= (members = _barrier.Wait(members))) return;
        bool descending = false;
        for (int s = _time - 1; s >= 0; s--)
        {
            (p0, p1) = Share(member, members);
            float* dPre = Block(_dPre, s);
            if (s == 0)
            {
                Product(dPre, _dh, null, p0, p1, RecurrenceEpilogue.Store, _batch, ref descending);
                return;
            }
            Product(dPre, Block(_dPre, s - 1), Block(_states, s - 1), p0, p1, gradient, _batch, ref descending);
            if (member >= (members = _barrier.Wait(members))) return;
        }
    }

    /// <summary>
    /// c[:, panels p0..p1) = epilogue(c + a op(W)) for the first <paramref name="batch"/> rows; a, c, h: [batch, hidden].
    /// Each pass over the panels runs in the order opposite to the pass before it (<paramref name="descending"/>, updated
    /// for the next), so it starts on the panels last read, still in L2 when W_hh is about as large as L2 (H = 512: 1 MB).
    /// The order changes nothing in the results: each panel's columns are computed on their own.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Product(float* a, float* c, float* h, int p0, int p1, RecurrenceEpilogue epilogue, int batch, ref bool descending)
    {
        int n = _hidden;
        float* tileC = stackalloc float[RecurrenceKernels.Rows * Panel];
        float* tileH = stackalloc float[RecurrenceKernels.Rows * Panel];
        // The rows past the last group of 8 take whole panels below, several panels a call, in either mode: one row
        // at a time per panel would read each panel from L2 once a row.
        int grouped = batch / RecurrenceKernels.Rows * RecurrenceKernels.Rows;
        for (int i = 0; i < p1 - p0; i++)
        {
            int p = descending ? p1 - 1 - i : p0 + i;
            float* panel = _packed + (long)p * n * Panel;
            int j = p * Panel, width = Math.Min(Panel, n - j);
            int end = width == Panel ? grouped : batch;
            int b = 0;
            for (; b < end; b += RecurrenceKernels.Rows)
            {
                int rows = Math.Min(RecurrenceKernels.Rows, end - b);
                float* cb = c + (long)b * n + j, hb = h is null ? null : h + (long)b * n + j, ab = a + (long)b * n;
                if (width == Panel && rows == RecurrenceKernels.Rows)
                {
                    PrefetchNextTile(c, h, b, end, i, p0, p1, descending);
                    RecurrenceKernels.Rows8(ab, n, panel, n, cb, n, hb, n, epilogue);
                    continue;
                }
                // An edge tile: through a zero-padded [8, 32] copy, so the kernels never touch memory past the matrix.
                Gather(cb, n, rows, width, tileC);
                if (hb is not null) Gather(hb, n, rows, width, tileH);
                if (rows == RecurrenceKernels.Rows) RecurrenceKernels.Rows8(ab, n, panel, n, tileC, Panel, tileH, Panel, epilogue);
                else if (_invariant)
                {
                    // Four rows share each load of the panel; every row keeps the 8-row kernel's order.
                    int r = 0;
                    for (; r + 4 <= rows; r += 4)
                        RecurrenceKernels.Rows4Ordered(ab + (long)r * n, n, panel, n, tileC + r * Panel, Panel, tileH + r * Panel, Panel, epilogue);
                    for (; r < rows; r++) RecurrenceKernels.Row1Ordered(ab + (long)r * n, panel, n, tileC + r * Panel, tileH + r * Panel, epilogue);
                }
                else
                    for (int r = 0; r < rows; r++) RecurrenceKernels.Row1(ab + (long)r * n, panel, n, tileC + r * Panel, tileH + r * Panel, epilogue);
                for (int r = 0; r < rows; r++)
                    new ReadOnlySpan<float>(tileC + r * Panel, width).CopyTo(new Span<float>(cb + (long)r * n, width));
            }
        }
        if (grouped == 0 || grouped == batch) descending = !descending;
        if (grouped < batch) ProductRemainder(a, c, h, p0, Math.Min(p1, n / Panel), epilogue, grouped, batch, descending);
    }

    /// <summary>
    /// Rows [b0, batch) (fewer than 8) of the whole panels p0..p1, in place, 4 panels at a time (in the order
    /// <paramref name="descending"/> says), every row on those before the next: 4 rows on 2 panels, 2 rows or 1 row on
    /// 4 panels a call, so enough FMA chains run at once to hide their latency; each chain is a row of <see cref="RecurrenceKernels.Rows8"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void ProductRemainder(float* a, float* c, float* h, int p0, int p1, RecurrenceEpilogue epilogue, int b0, int batch, bool descending)
    {
        int n = _hidden;
        long stride = (long)n * Panel;
        int chunks = (p1 - p0 + 3) / 4;
        for (int i = 0; i < chunks; i++)
        {
            int pa = p0 + 4 * (descending ? chunks - 1 - i : i), pb = Math.Min(pa + 4, p1);
            for (int b = b0; b < batch;)
            {
                int rows = batch - b >= 4 ? 4 : batch - b >= 2 ? 2 : 1;
                float* ab = a + (long)b * n, cb = c + (long)b * n, hb = h is null ? null : h + (long)b * n;
                int p = pa;
                if (rows == 4)
                    for (; p + 2 <= pb; p += 2)
                        RecurrenceKernels.Rows4Ordered2(ab, n, _packed + p * stride, stride, n, cb + p * Panel, n, hb + p * Panel, n, epilogue);
                else if (pb - p == 4)
                {
                    if (rows == 2) RecurrenceKernels.Rows2Ordered4(ab, n, _packed + p * stride, stride, n, cb + p * Panel, n, hb + p * Panel, n, epilogue);
                    else RecurrenceKernels.Row1Ordered4(ab, _packed + p * stride, stride, n, cb + p * Panel, hb + p * Panel, epilogue);
                    p = pb;
                }
                // The last few panels of the stripe: 4 rows, or 1 row at a time, on one panel a call.
                for (; p < pb; p++)
                {
                    if (rows == 4) RecurrenceKernels.Rows4Ordered(ab, n, _packed + p * stride, n, cb + p * Panel, n, hb + p * Panel, n, epilogue);
                    else
                        for (int r = 0; r < rows; r++)
                            RecurrenceKernels.Row1Ordered(ab + (long)r * n, _packed + p * stride, n, cb + (long)r * n + p * Panel,
                                hb is null ? null : hb + (long)r * n + p * Panel, epilogue);
                }
                b += rows;
            }
        }
    }

    /// <summary>
    /// Asks for the c (and h) rows of the 8-row tile after the one at row b of the i-th panel this pass: the next rows of
    /// the panel, else the first of the next panel. The kernel reads its tile first thing, and c (pre_t, from the input
    /// projection long before) is in L3 by then, its rows a kilobyte or more apart where no prefetcher looks: asked for a tile
    /// ahead, the loads find it in L1 instead of stalling the tile's first FMAs.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void PrefetchNextTile(float* c, float* h, int b, int end, int i, int p0, int p1, bool descending)
    {
        int n = _hidden;
        int nextB = b + RecurrenceKernels.Rows, nextP;
        if (nextB + RecurrenceKernels.Rows <= end) nextP = descending ? p1 - 1 - i : p0 + i;
        else
        {
            if (i + 1 >= p1 - p0) return;
            (nextB, nextP) = (0, descending ? p1 - 2 - i : p0 + i + 1);
        }
        long at = (long)nextB * n + (long)nextP * Panel;
        for (int r = 0; r < RecurrenceKernels.Rows; r++, at += n)
        {
            // A row's 32 floats span two cache lines, or three when the row is not 64-byte aligned.
            Sse.Prefetch0(c + at);
            Sse.Prefetch0(c + at + Panel / 2);
            Sse.Prefetch0(c + at + Panel - 1);
            if (h is null) continue;
            Sse.Prefetch0(h + at);
            Sse.Prefetch0(h + at + Panel / 2);
            Sse.Prefetch0(h + at + Panel - 1);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Gather(float* src, int ld, int rows, int width, float* tile)
    {
        new Span<float>(tile, RecurrenceKernels.Rows * Panel).Clear();
        for (int r = 0; r < rows; r++)
            new ReadOnlySpan<float>(src + (long)r * ld, width).CopyTo(new Span<float>(tile + r * Panel, width));
    }
}
