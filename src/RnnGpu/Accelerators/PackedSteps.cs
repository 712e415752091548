namespace RnnGpu.Accelerators;

/// <summary>
/// Where each step of a packed recurrence reads its previous state from (the layout of <see cref="Accelerator.RnnRecurrenceForward"/>:
/// step t's block holds its stepRows[t] rows, longest sequences first, right after step t - 1's). Forwards step t's rows
/// start from the first rows of step t - 1's block, or of h0 for step 0: one segment. In reverse step t's first
/// stepRows[t + 1] rows start from step t + 1's block and the rest, the sequences whose last step is t, from h0's
/// same rows: up to two segments. Every kernel of a step is row by row apart from the products, so each segment is
/// a contiguous run of rows on both sides.
/// </summary>
internal readonly ref struct PackedSteps
{
    private readonly ReadOnlySpan<int> _rows;
    private readonly Span<long> _firstRow;

    public PackedSteps(ReadOnlySpan<int> stepRows, Span<long> firstRow, bool reverse)
    {
        _rows = stepRows;
        _firstRow = firstRow;
        Reverse = reverse;
        long row = 0;
        for (int t = 0; t < stepRows.Length; t++)
        {
            firstRow[t] = row;
            row += stepRows[t];
        }
    }

    public bool Reverse { get; }

    public int Time => _rows.Length;

    public int Rows(int t) => _rows[t];

    /// <summary>The first row of step t's block.</summary>
    public long FirstRow(int t) => _firstRow[t];

    /// <summary>The step the forward pass takes in place <paramref name="i"/> of its order.</summary>
    public int StepAt(int i) => Reverse ? Time - 1 - i : i;

    /// <summary>
    /// Up to two segments of step t: rows [First, First + Count) start from <see cref="Segment.Source"/>'s same rows
    /// (a step, or -1 for the initial state).
    /// </summary>
    public int Segments(int t, Span<Segment> segments)
    {
        int rows = _rows[t];
        if (!Reverse)
        {
            segments[0] = new Segment(0, rows, t - 1);
            return 1;
        }
        int carried = t + 1 < Time ? _rows[t + 1] : 0, count = 0;
        if (carried > 0) segments[count++] = new Segment(0, carried, t + 1);
        if (rows > carried) segments[count++] = new Segment(carried, rows - carried, -1);
        return count;
    }

    /// <summary>The rows whose sequence ends at step t, where dL/d(final state) enters BPTT: forwards those past step t + 1's, in reverse all of step 0's.</summary>
    public (int First, int Count) Ending(int t)
    {
        if (Reverse) return t == 0 ? (0, _rows[0]) : (0, 0);
        int next = t + 1 < Time ? _rows[t + 1] : 0;
        return (next, _rows[t] - next);
    }

    /// <summary>Rows [First, First + Count) of a step, reading their previous state from Source's same rows (-1: the initial state).</summary>
    public readonly record struct Segment(int First, int Count, int Source)
    {
        public bool FromInitial => Source < 0;
    }
}
