using System.Runtime.CompilerServices;

namespace RnnGpu.Accelerators.Cpu;

/// <summary>
/// The bias kernels over [rows, cols] matrices on the CPU team: y[r, :] += b (members take row ranges)
/// and s = beta s + Σ_r x[r, :] (members take 16-column stripes, each summed over every row in row
/// order, so the result does not depend on the team's size). Both are memory-bound passes over a
/// whole layer's steps; on one core they cost as much as the recurrence's GEMMs.
/// </summary>
internal sealed unsafe class CpuBias : ITeamWork
{
    private const long TeamElements = 1 << 16;   // below this one core streams it faster than a hand-off
    private const int Stripe = 16;

    [ThreadStatic] private static CpuBias? _cached;

    private bool _columnSum;
    private int _rows, _cols;
    private float _beta;
    private float* _matrix, _vector;

    /// <summary>y [rows, cols] += bias [cols] on every row.</summary>
    public static void Add(int rows, int cols, float* bias, float* y, int threads) => Start(false, rows, cols, y, bias, 1f, threads);

    /// <summary>sum [cols] = beta sum + Σ_r x[r, :], x: [rows, cols].</summary>
    public static void ColumnSum(int rows, int cols, float* x, float* sum, float beta, int threads) => Start(true, rows, cols, x, sum, beta, threads);

    private static void Start(bool columnSum, int rows, int cols, float* matrix, float* vector, float beta, int threads)
    {
        var work = _cached ?? new CpuBias();
        _cached = null;
        (work._columnSum, work._rows, work._cols, work._beta) = (columnSum, rows, cols, beta);
        work._matrix = matrix;
        work._vector = vector;
        try
        {
            if ((long)rows * cols < TeamElements) work.Run(0, 1);
            else CpuTeam.Run(work, threads, (double)rows * cols);
        }
        finally
        {
            work._matrix = work._vector = null;
            _cached = work;
        }
    }

    public void Run(int member, int members)
    {
        if (_columnSum) SumColumns(member, members);
        else AddRows(member, members);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void AddRows(int member, int members)
    {
        int r0 = (int)((long)_rows * member / members), r1 = (int)((long)_rows * (member + 1) / members);
        var b = new ReadOnlySpan<float>(_vector, _cols);
        for (int r = r0; r < r1; r++)
        {
            var row = new Span<float>(_matrix + (long)r * _cols, _cols);
            CpuVectors.Add(row, b, row);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void SumColumns(int member, int members)
    {
        int stripes = (_cols + Stripe - 1) / Stripe;
        int c0 = (int)((long)stripes * member / members) * Stripe, c1 = Math.Min((int)((long)stripes * (member + 1) / members) * Stripe, _cols);
        if (c1 <= c0) return;
        var s = new Span<float>(_vector + c0, c1 - c0);
        if (_beta == 0f) s.Clear();
        else if (_beta != 1f) CpuVectors.Scale(s, _beta, s);
        for (int r = 0; r < _rows; r++)
            CpuVectors.Add(s, new ReadOnlySpan<float>(_matrix + (long)r * _cols + c0, c1 - c0), s);
    }
}
