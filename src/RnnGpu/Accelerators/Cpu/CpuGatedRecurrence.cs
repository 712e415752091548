namespace RnnGpu.Accelerators.Cpu;

/// <summary>
/// The forward recurrence of an LSTM (without a projection) or a GRU over very few rows as one <see cref="CpuTeam"/> job: each
/// member owns a stripe of the hidden units and, step after step, computes its units' gate products straight from the
/// rows of W_hh (dot products, as <see cref="CpuGemmDot"/>: nothing packed, its rows of W_hh stay in its core's cache),
/// then its units' gates (<see cref="CpuGates"/>), and meets the others at a barrier once per step, so a step costs one
/// barrier instead of a product's and a gate kernel's hand-offs. Packed steps forwards: step t runs the first rows_t rows
/// from the first rows of step t - 1's block. Each output is computed by one member in one order whatever the team's size.
/// </summary>
internal sealed unsafe class CpuGatedRecurrence : ITeamWork
{
    /// <summary>
    /// The rows up to which the dot products beat the step loop's blocked GEMM, which packs W_hh on every step. Where
    /// <see cref="CpuGatedBlocked"/> fits the hidden size, it takes from <see cref="CpuGatedBlocked.MinForwardRows"/> rows on.
    /// </summary>
    public const int MaxRows = 8;
    private const long TeamFlopsPerStep = 1L << 17;    // below this a step is too short to share

    [ThreadStatic] private static CpuGatedRecurrence? _cached;

    private readonly TeamBarrier _barrier = new();
    private bool _lstm;
    private int _hidden, _time;
    private int[] _rows = [];
    private long[] _first = [];
    private GemmIsa _isa;
    private float* _h0, _c0, _w, _bias, _gates, _cells, _states, _hn, _scratch;

    /// <summary>Whether the fused job takes this call: few rows, whole 8-unit stripes, the caller not batch-invariant (the dot products sum in their own order).</summary>
    public static bool Takes(int rows, int hidden, bool invariant) => rows <= MaxRows && hidden % 8 == 0 && !invariant;

    public bool SharesStandAlone => false;

    public void Abandon() => _barrier.Break();

    /// <summary>See <see cref="Accelerator.LstmRecurrenceForward"/> without a projection, forwards.</summary>
    public static void Lstm(ReadOnlySpan<int> stepRows, int hidden, float* h0, float* c0, float* wHh, float* gates, float* cells, float* states, int threads) =>
        Start(stepRows, hidden, lstm: true, h0, c0, wHh, null, gates, cells, states, null, null, threads);

    /// <summary>See <see cref="Accelerator.GruRecurrenceForward"/>, forwards.</summary>
    public static void Gru(ReadOnlySpan<int> stepRows, int hidden, float* h0, float* wHh, float* bHh, float* gates, float* hn, float* states, float* scratch,
        int threads) =>
        Start(stepRows, hidden, lstm: false, h0, null, wHh, bHh, gates, null, states, hn, scratch, threads);

    private static void Start(ReadOnlySpan<int> stepRows, int hidden, bool lstm, float* h0, float* c0, float* w, float* bias, float* gates, float* cells,
        float* states, float* hn, float* scratch, int threads)
    {
        var work = _cached ?? new CpuGatedRecurrence();
        _cached = null;   // a nested call on this thread (none today) makes its own
        try
        {
            if (work._rows.Length < stepRows.Length) (work._rows, work._first) = (new int[stepRows.Length], new long[stepRows.Length]);
            long row = 0;
            for (int t = 0; t < stepRows.Length; t++)
            {
                work._rows[t] = stepRows[t];
                work._first[t] = row;
                row += stepRows[t];
            }
            (work._lstm, work._hidden, work._time, work._isa) = (lstm, hidden, stepRows.Length, GemmIsaChoice.Current);
            work._h0 = h0;
            work._c0 = c0;
            work._w = w;
            work._bias = bias;
            work._gates = gates;
            work._cells = cells;
            work._states = states;
            work._hn = hn;
            work._scratch = scratch;
            work._barrier.Reset();
            long stepFlops = 2L * stepRows[0] * (lstm ? 4 : 3) * hidden * hidden;
            if (stepFlops < TeamFlopsPerStep) work.Run(0, 1);
            else CpuTeam.Run(work, threads, (double)stepFlops * stepRows.Length);
        }
        finally
        {
            work._h0 = work._c0 = work._w = work._bias = work._gates = work._cells = work._states = work._hn = work._scratch = null;
            _cached = work;
        }
    }

    public void Run(int member, int members)
    {
        for (int t = 0; t < _time; t++)
        {
            int stripes = _hidden / 8;
            int u0 = (int)((long)stripes * member / members) * 8, u1 = (int)((long)stripes * (member + 1) / members) * 8;
            if (u1 > u0) Step(t, u0, u1);
            if (t < _time - 1 && member >= (members = _barrier.Wait(members))) return;
        }
    }

    /// <summary>Step t for the units [u0, u1): every gate's product for those units, then their gates.</summary>
    private void Step(int t, int u0, int u1)
    {
        int h = _hidden, g = _lstm ? 4 : 3, rows = _rows[t];
        long first = _first[t], previous = t == 0 ? 0 : _first[t - 1];
        float* hPrev = t == 0 ? _h0 : _states + previous * h;
        float* gates = _gates + first * g * h;
        // LSTM: gates += hPrev W_hh^T in place; GRU: a = hPrev W_hh^T + b_hh into the scratch, its n block kept apart.
        float* c = _lstm ? gates : _scratch;
        var spec = new GemmSpec(false, true, rows, g * h, h, 1f, _lstm ? 1f : 0f, h, h, g * h);
        for (int k = 0; k < g; k++)
        {
            CpuGemmDot.Columns(spec, _isa, hPrev, _w, c, k * h + u0, k * h + u1);
            if (_lstm) continue;
            for (int r = 0; r < rows; r++)
            {
                var part = new Span<float>(c + (long)r * g * h + k * h + u0, u1 - u0);
                CpuVectors.Add(part, new ReadOnlySpan<float>(_bias + k * h + u0, u1 - u0), part);
            }
        }
        if (_lstm)
            CpuGates.LstmForward(rows, h, u0, u1, gates, t == 0 ? _c0 : _cells + previous * h, _cells + first * h, _states + first * h);
        else
            CpuGates.GruForward(rows, h, u0, u1, gates, _scratch, hPrev, _states + first * h, _hn + first * h);
    }
}
