using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace RnnGpu.Accelerators.Cpu;

/// <summary>
/// One step of a layer from its input for a few rows (a stream: batch 1 to 4), as one pass over both weights:
/// h[b, j] = act(b_ih[j] + b_hh[j] + x[b] · W_ih[j] + hPrev[b] · W_hh[j]). A step at batch 1 and hidden 256 reads
/// 320 KB of weights and does 0.16 MFLOP, so it is bound by the L2 bandwidth (about 100 GB/s a core here): the
/// rows of W_ih and W_hh are read where they lie, no packing, 16 columns at a time with one accumulator each
/// (both dot products in the same chain, x first), and members of the team take 16-column blocks, so two cores
/// halve the bytes each streams. Every output is summed in one order whatever the batch, block or member.
/// AVX-512 only; the step's shapes on other machines take the product and the fused step (<see cref="Accelerator"/>).
/// </summary>
internal sealed unsafe class CpuInputStep : ITeamWork
{
    public const int MaxRows = 4;
    private const int Block = 16;
    private const long TeamFlops = 1L << 17;   // below this a step is too short to share

    // The caller's last jobs, most recent first, one per output buffer: a stream's steps alternate between two state
    // buffers per layer (hPrev and h swap), so with a job each, a step writes none of the fields its worker reads
    // (each write would cost the worker a cache-line transfer before it could start). Eight cover a 4-layer stream.
    private const int Recent = 8;
    [ThreadStatic] private static CpuInputStep?[]? _recent;

    private Activation _act;
    private int _batch, _hidden, _input;
    private float* _x, _wIh, _bIh, _bHh, _hPrev, _wHh, _h;

    public static bool Supported => GemmIsaChoice.Current == GemmIsa.Vector512;

    /// <summary>x: [batch, input]; wIh: [hidden, input]; bIh, bHh: [hidden]; hPrev, h: [batch, hidden]; wHh: [hidden, hidden].</summary>
    public static void Run(Activation act, int batch, int hidden, int input, float* x, float* wIh, float* bIh, float* bHh, float* hPrev, float* wHh,
        float* h, int threads)
    {
        var recent = _recent ??= new CpuInputStep?[Recent];
        // The job that last wrote h, else the least recent; taken out while it runs, so a nested call (none today) makes its own.
        int slot = 0;
        while (slot < Recent - 1 && recent[slot] is { } seen && seen._h != h) slot++;
        var job = recent[slot] ?? new CpuInputStep();
        recent[slot] = null;
        try
        {
            job.Set(act, batch, hidden, input, x, wIh, bIh, bHh, hPrev, wHh, h);
            if (2L * batch * hidden * (input + hidden) < TeamFlops) job.Run(0, 1);
            else CpuTeam.Run(job, threads, 2.0 * batch * hidden * (input + hidden));
        }
        finally
        {
            // To the front; the pointers stay, as the next step with the same buffers compares against them.
            for (int i = slot; i > 0; i--) recent[i] = recent[i - 1];
            recent[0] = job;
        }
    }

    /// <summary>Writes only the fields that change: an unchanged field's cache line stays valid on the worker's core.</summary>
    private void Set(Activation act, int batch, int hidden, int input, float* x, float* wIh, float* bIh, float* bHh, float* hPrev, float* wHh, float* h)
    {
        if (_act != act || _batch != batch || _hidden != hidden || _input != input)
            (_act, _batch, _hidden, _input) = (act, batch, hidden, input);
        if (_x != x) _x = x;
        if (_wIh != wIh) _wIh = wIh;
        if (_bIh != bIh) _bIh = bIh;
        if (_bHh != bHh) _bHh = bHh;
        if (_hPrev != hPrev) _hPrev = hPrev;
        if (_wHh != wHh) _wHh = wHh;
        if (_h != h) _h = h;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Run(int member, int members)
    {
        int blocks = (_hidden + Block - 1) / Block;
        int j0 = (int)((long)blocks * member / members) * Block, j1 = Math.Min((int)((long)blocks * (member + 1) / members) * Block, _hidden);
        for (int b = 0; b < _batch; b++)
        {
            float* x = _x + (long)b * _input, hPrev = _hPrev + (long)b * _hidden, h = _h + (long)b * _hidden;
            int j = j0;
            for (; j + Block <= j1; j += Block) Block16(x, hPrev, h, j);
            for (; j < j1; j++) h[j] = Activate(_act, Sum(x, hPrev, j));
        }
    }

    /// <summary>h[j..j+16) of one row: 16 accumulators, their lanes summed as GemmDot512's, biases, activation, one store.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Block16(float* x, float* hPrev, float* h, int j)
    {
        Vector512<float> c0 = default, c1 = default, c2 = default, c3 = default, c4 = default, c5 = default, c6 = default, c7 = default;
        Vector512<float> c8 = default, c9 = default, c10 = default, c11 = default, c12 = default, c13 = default, c14 = default, c15 = default;
        for (int pass = 0; pass < 2; pass++)
        {
            int k = pass == 0 ? _input : _hidden;
            float* a = pass == 0 ? x : hPrev, w = (pass == 0 ? _wIh : _wHh) + (long)j * k;
            for (int p = 0; p + Block <= k; p += Block)
            {
                var av = Vector512.Load(a + p);
                float* y = w + p;
                c0 = Vector512.FusedMultiplyAdd(av, Vector512.Load(y), c0); y += k;
                c1 = Vector512.FusedMultiplyAdd(av, Vector512.Load(y), c1); y += k;
                c2 = Vector512.FusedMultiplyAdd(av, Vector512.Load(y), c2); y += k;
                c3 = Vector512.FusedMultiplyAdd(av, Vector512.Load(y), c3); y += k;
                c4 = Vector512.FusedMultiplyAdd(av, Vector512.Load(y), c4); y += k;
                c5 = Vector512.FusedMultiplyAdd(av, Vector512.Load(y), c5); y += k;
                c6 = Vector512.FusedMultiplyAdd(av, Vector512.Load(y), c6); y += k;
                c7 = Vector512.FusedMultiplyAdd(av, Vector512.Load(y), c7); y += k;
                c8 = Vector512.FusedMultiplyAdd(av, Vector512.Load(y), c8); y += k;
                c9 = Vector512.FusedMultiplyAdd(av, Vector512.Load(y), c9); y += k;
                c10 = Vector512.FusedMultiplyAdd(av, Vector512.Load(y), c10); y += k;
                c11 = Vector512.FusedMultiplyAdd(av, Vector512.Load(y), c11); y += k;
                c12 = Vector512.FusedMultiplyAdd(av, Vector512.Load(y), c12); y += k;
                c13 = Vector512.FusedMultiplyAdd(av, Vector512.Load(y), c13); y += k;
                c14 = Vector512.FusedMultiplyAdd(av, Vector512.Load(y), c14); y += k;
                c15 = Vector512.FusedMultiplyAdd(av, Vector512.Load(y), c15);
            }
        }
        var lo = GemmLaneSums.Of8(c0, c1, c2, c3, c4, c5, c6, c7);
        var hi = GemmLaneSums.Of8(c8, c9, c10, c11, c12, c13, c14, c15);
        // Slot q's sum sits at lane Lane(q) = 0, 4, 8, 12, 1, 5, 9, 13 of each; indices 16+ read the second source.
        var sums = Avx512F.PermuteVar16x32x2(lo, Vector512.Create(0, 4, 8, 12, 1, 5, 9, 13, 16, 20, 24, 28, 17, 21, 25, 29), hi);
        if (_input % Block != 0 || _hidden % Block != 0)
        {
            // The tails of K, column by column, after the vector part: the order Sum takes too.
            float* lanes = stackalloc float[Block];
            sums.Store(lanes);
            for (int q = 0; q < Block; q++) lanes[q] = Tails(x, hPrev, j + q, lanes[q]);
            sums = Vector512.Load(lanes);
        }
        var v = sums + Vector512.Load(_bIh + j) + Vector512.Load(_bHh + j);
        (_act == Activation.Tanh ? CpuTanh.Of(v) : Vector512.Max(v, Vector512<float>.Zero)).Store(h + j);
    }

    /// <summary>Column j alone (past the last whole block): its lanes as a block sums them, then the tails.</summary>
    private float Sum(float* x, float* hPrev, int j)
    {
        var acc = Vector512<float>.Zero;
        for (int pass = 0; pass < 2; pass++)
        {
            int k = pass == 0 ? _input : _hidden;
            float* a = pass == 0 ? x : hPrev, w = (pass == 0 ? _wIh : _wHh) + (long)j * k;
            for (int p = 0; p + Block <= k; p += Block) acc = Vector512.FusedMultiplyAdd(Vector512.Load(a + p), Vector512.Load(w + p), acc);
        }
        var zero = Vector512<float>.Zero;
        return Tails(x, hPrev, j, GemmLaneSums.Of8(acc, zero, zero, zero, zero, zero, zero, zero).ToScalar()) + _bIh[j] + _bHh[j];
    }

    /// <summary>sum plus the terms of column j past the whole vectors of K, x's then hPrev's.</summary>
    private float Tails(float* x, float* hPrev, int j, float sum)
    {
        int pi = _input / Block * Block, ph = _hidden / Block * Block;
        sum = CpuGemmDot.Dot(x, _wIh + (long)j * _input, pi, _input, sum);
        return CpuGemmDot.Dot(hPrev, _wHh + (long)j * _hidden, ph, _hidden, sum);
    }

    private static float Activate(Activation act, float v)
    {
        var r = act == Activation.Tanh ? CpuTanh.Of(Vector512.Create(v)) : Vector512.Max(Vector512.Create(v), Vector512<float>.Zero);
        return r.ToScalar();
    }
}
