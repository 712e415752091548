using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace RnnGpu.Accelerators.Cpu;

/// <summary>What a recurrence micro-kernel does with its accumulators before it stores them.</summary>
internal enum RecurrenceEpilogue
{
    /// <summary>c = acc: the gradient into the initial state.</summary>
    Store,
    /// <summary>c = tanh(acc): the forward step.</summary>
    Tanh,
    /// <summary>c = max(acc, 0): the forward step.</summary>
    Relu,
    /// <summary>c = acc * (1 - h²): the gradient through tanh, taken from the layer's output h.</summary>
    TanhGradient,
    /// <summary>c = acc where h &gt; 0, else 0: the gradient through ReLU.</summary>
    ReluGradient,
}

/// <summary>
/// The AVX-512 micro-kernels of <see cref="CpuRecurrence"/>: c[r, 0..32) = epilogue(c[r, 0..32) + Σ_k a[r, k] panel[k, 0..32))
/// for 8 rows (16 zmm accumulators, 2 panel loads and 8 broadcasts per 16 FMAs) or 1 row. The panel is
/// 32 columns of the weight matrix packed [k, 32] contiguous, so each k reads one 128-byte line.
/// a and c (and h, for the gradient epilogues) are row-major with their own row strides.
/// </summary>
internal static unsafe class RecurrenceKernels
{
    public const int Rows = 8, Columns = 32;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Rows8(float* a, int lda, float* panel, int k, float* c, int ldc, float* h, int ldh, RecurrenceEpilogue epilogue)
    {
        float* a0 = a, a1 = a0 + lda, a2 = a1 + lda, a3 = a2 + lda, a4 = a3 + lda, a5 = a4 + lda, a6 = a5 + lda, a7 = a6 + lda;
        float* c0 = c, c1 = c0 + ldc, c2 = c1 + ldc, c3 = c2 + ldc, c4 = c3 + ldc, c5 = c4 + ldc, c6 = c5 + ldc, c7 = c6 + ldc;
        Vector512<float> x00 = Vector512.Load(c0), x01 = Vector512.Load(c0 + 16), x10 = Vector512.Load(c1), x11 = Vector512.Load(c1 + 16);
        Vector512<float> x20 = Vector512.Load(c2), x21 = Vector512.Load(c2 + 16), x30 = Vector512.Load(c3), x31 = Vector512.Load(c3 + 16);
        Vector512<float> x40 = Vector512.Load(c4), x41 = Vector512.Load(c4 + 16), x50 = Vector512.Load(c5), x51 = Vector512.Load(c5 + 16);
        Vector512<float> x60 = Vector512.Load(c6), x61 = Vector512.Load(c6 + 16), x70 = Vector512.Load(c7), x71 = Vector512.Load(c7 + 16);
        float* p = panel;
        for (int kk = 0; kk < k; kk++, p += Columns)
        {
            var b0 = Vector512.Load(p);
            var b1 = Vector512.Load(p + 16);
            var v = Vector512.Create(a0[kk]); x00 = Vector512.FusedMultiplyAdd(v, b0, x00); x01 = Vector512.FusedMultiplyAdd(v, b1, x01);
            v = Vector512.Create(a1[kk]); x10 = Vector512.FusedMultiplyAdd(v, b0, x10); x11 = Vector512.FusedMultiplyAdd(v, b1, x11);
            v = Vector512.Create(a2[kk]); x20 = Vector512.FusedMultiplyAdd(v, b0, x20); x21 = Vector512.FusedMultiplyAdd(v, b1, x21);
            v = Vector512.Create(a3[kk]); x30 = Vector512.FusedMultiplyAdd(v, b0, x30); x31 = Vector512.FusedMultiplyAdd(v, b1, x31);
            v = Vector512.Create(a4[kk]); x40 = Vector512.FusedMultiplyAdd(v, b0, x40); x41 = Vector512.FusedMultiplyAdd(v, b1, x41);
            v = Vector512.Create(a5[kk]); x50 = Vector512.FusedMultiplyAdd(v, b0, x50); x51 = Vector512.FusedMultiplyAdd(v, b1, x51);
            v = Vector512.Create(a6[kk]); x60 = Vector512.FusedMultiplyAdd(v, b0, x60); x61 = Vector512.FusedMultiplyAdd(v, b1, x61);
            v = Vector512.Create(a7[kk]); x70 = Vector512.FusedMultiplyAdd(v, b0, x70); x71 = Vector512.FusedMultiplyAdd(v, b1, x71);
        }
        Finish(x00, x01, c0, h, epilogue);
        Finish(x10, x11, c1, h + ldh, epilogue);
        Finish(x20, x21, c2, h + 2 * ldh, epilogue);
        Finish(x30, x31, c3, h + 3 * ldh, epilogue);
        Finish(x40, x41, c4, h + 4 * ldh, epilogue);
        Finish(x50, x51, c5, h + 5 * ldh, epilogue);
        Finish(x60, x61, c6, h + 6 * ldh, epilogue);
        Finish(x70, x71, c7, h + 7 * ldh, epilogue);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Row1(float* a, float* panel, int k, float* c, float* h, RecurrenceEpilogue epilogue)
    {
        // Four accumulator pairs over interleaved k, so the FMA chain is not latency bound; summed at the end.
        Vector512<float> x0 = Vector512.Load(c), x1 = Vector512.Load(c + 16);
        Vector512<float> y0 = default, y1 = default, z0 = default, z1 = default, w0 = default, w1 = default;
        float* p = panel;
        int kk = 0;
        for (; kk + 4 <= k; kk += 4, p += 4 * Columns)
        {
            var v = Vector512.Create(a[kk]);
            x0 = Vector512.FusedMultiplyAdd(v, Vector512.Load(p), x0); x1 = Vector512.FusedMultiplyAdd(v, Vector512.Load(p + 16), x1);
            v = Vector512.Create(a[kk + 1]);
            y0 = Vector512.FusedMultiplyAdd(v, Vector512.Load(p + 32), y0); y1 = Vector512.FusedMultiplyAdd(v, Vector512.Load(p + 48), y1);
            v = Vector512.Create(a[kk + 2]);
            z0 = Vector512.FusedMultiplyAdd(v, Vector512.Load(p + 64), z0); z1 = Vector512.FusedMultiplyAdd(v, Vector512.Load(p + 80), z1);
            v = Vector512.Create(a[kk + 3]);
            w0 = Vector512.FusedMultiplyAdd(v, Vector512.Load(p + 96), w0); w1 = Vector512.FusedMultiplyAdd(v, Vector512.Load(p + 112), w1);
        }
        for (; kk < k; kk++, p += Columns)
        {
            var v = Vector512.Create(a[kk]);
            x0 = Vector512.FusedMultiplyAdd(v, Vector512.Load(p), x0); x1 = Vector512.FusedMultiplyAdd(v, Vector512.Load(p + 16), x1);
        }
        Finish((x0 + y0) + (z0 + w0), (x1 + y1) + (z1 + w1), c, h, epilogue);
    }

    /// <summary>Four rows of <see cref="Rows8"/>, each with the same FMA chain, so a row's bits do not depend on its neighbours.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Rows4Ordered(float* a, int lda, float* panel, int k, float* c, int ldc, float* h, int ldh, RecurrenceEpilogue epilogue)
    {
        float* a0 = a, a1 = a0 + lda, a2 = a1 + lda, a3 = a2 + lda;
        float* c0 = c, c1 = c0 + ldc, c2 = c1 + ldc, c3 = c2 + ldc;
        Vector512<float> x00 = Vector512.Load(c0), x01 = Vector512.Load(c0 + 16), x10 = Vector512.Load(c1), x11 = Vector512.Load(c1 + 16);
        Vector512<float> x20 = Vector512.Load(c2), x21 = Vector512.Load(c2 + 16), x30 = Vector512.Load(c3), x31 = Vector512.Load(c3 + 16);
        float* p = panel;
        for (int kk = 0; kk < k; kk++, p += Columns)
        {
            var b0 = Vector512.Load(p);
            var b1 = Vector512.Load(p + 16);
            var v = Vector512.Create(a0[kk]); x00 = Vector512.FusedMultiplyAdd(v, b0, x00); x01 = Vector512.FusedMultiplyAdd(v, b1, x01);
            v = Vector512.Create(a1[kk]); x10 = Vector512.FusedMultiplyAdd(v, b0, x10); x11 = Vector512.FusedMultiplyAdd(v, b1, x11);
            v = Vector512.Create(a2[kk]); x20 = Vector512.FusedMultiplyAdd(v, b0, x20); x21 = Vector512.FusedMultiplyAdd(v, b1, x21);
            v = Vector512.Create(a3[kk]); x30 = Vector512.FusedMultiplyAdd(v, b0, x30); x31 = Vector512.FusedMultiplyAdd(v, b1, x31);
        }
        Finish(x00, x01, c0, h, epilogue);
        Finish(x10, x11, c1, h + ldh, epilogue);
        Finish(x20, x21, c2, h + 2 * ldh, epilogue);
        Finish(x30, x31, c3, h + 3 * ldh, epilogue);
    }

    /// <summary>
    /// One row with the arithmetic of a row of <see cref="Rows8"/>: one accumulator pair from c, k in order. A
    /// latency-bound chain, slower than <see cref="Row1"/>, but bit-identical to the row computed in a group of 8.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Row1Ordered(float* a, float* panel, int k, float* c, float* h, RecurrenceEpilogue epilogue)
    {
        Vector512<float> x0 = Vector512.Load(c), x1 = Vector512.Load(c + 16);
        float* p = panel;
        for (int kk = 0; kk < k; kk++, p += Columns)
        {
            var v = Vector512.Create(a[kk]);
            x0 = Vector512.FusedMultiplyAdd(v, Vector512.Load(p), x0); x1 = Vector512.FusedMultiplyAdd(v, Vector512.Load(p + 16), x1);
        }
        Finish(x0, x1, c, h, epilogue);
    }

    /// <summary>
    /// <see cref="Rows4Ordered"/> over two panels side by side (<paramref name="panelStride"/> apart; c and h
    /// columns 32 apart): 16 accumulator chains instead of 8, so the FMAs are not latency bound, each chain as in <see cref="Rows8"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Rows4Ordered2(float* a, int lda, float* panel, long panelStride, int k, float* c, int ldc, float* h, int ldh,
        RecurrenceEpilogue epilogue)
    {
        float* a0 = a, a1 = a0 + lda, a2 = a1 + lda, a3 = a2 + lda;
        float* c0 = c, c1 = c0 + ldc, c2 = c1 + ldc, c3 = c2 + ldc;
        Vector512<float> x00 = Vector512.Load(c0), x01 = Vector512.Load(c0 + 16), y00 = Vector512.Load(c0 + 32), y01 = Vector512.Load(c0 + 48);
        Vector512<float> x10 = Vector512.Load(c1), x11 = Vector512.Load(c1 + 16), y10 = Vector512.Load(c1 + 32), y11 = Vector512.Load(c1 + 48);
        Vector512<float> x20 = Vector512.Load(c2), x21 = Vector512.Load(c2 + 16), y20 = Vector512.Load(c2 + 32), y21 = Vector512.Load(c2 + 48);
        Vector512<float> x30 = Vector512.Load(c3), x31 = Vector512.Load(c3 + 16), y30 = Vector512.Load(c3 + 32), y31 = Vector512.Load(c3 + 48);
        float* p = panel, q = panel + panelStride;
        for (int kk = 0; kk < k; kk++, p += Columns, q += Columns)
        {
            var b0 = Vector512.Load(p);
            var b1 = Vector512.Load(p + 16);
            var d0 = Vector512.Load(q);
            var d1 = Vector512.Load(q + 16);
            var v = Vector512.Create(a0[kk]);
            x00 = Vector512.FusedMultiplyAdd(v, b0, x00); x01 = Vector512.FusedMultiplyAdd(v, b1, x01);
            y00 = Vector512.FusedMultiplyAdd(v, d0, y00); y01 = Vector512.FusedMultiplyAdd(v, d1, y01);
            v = Vector512.Create(a1[kk]);
            x10 = Vector512.FusedMultiplyAdd(v, b0, x10); x11 = Vector512.FusedMultiplyAdd(v, b1, x11);
            y10 = Vector512.FusedMultiplyAdd(v, d0, y10); y11 = Vector512.FusedMultiplyAdd(v, d1, y11);
            v = Vector512.Create(a2[kk]);
            x20 = Vector512.FusedMultiplyAdd(v, b0, x20); x21 = Vector512.FusedMultiplyAdd(v, b1, x21);
            y20 = Vector512.FusedMultiplyAdd(v, d0, y20); y21 = Vector512.FusedMultiplyAdd(v, d1, y21);
            v = Vector512.Create(a3[kk]);
            x30 = Vector512.FusedMultiplyAdd(v, b0, x30); x31 = Vector512.FusedMultiplyAdd(v, b1, x31);
            y30 = Vector512.FusedMultiplyAdd(v, d0, y30); y31 = Vector512.FusedMultiplyAdd(v, d1, y31);
        }
        Finish(x00, x01, c0, h, epilogue);
        Finish(y00, y01, c0 + 32, h + 32, epilogue);
        Finish(x10, x11, c1, h + ldh, epilogue);
        Finish(y10, y11, c1 + 32, h + ldh + 32, epilogue);
        Finish(x20, x21, c2, h + 2 * ldh, epilogue);
        Finish(y20, y21, c2 + 32, h + 2 * ldh + 32, epilogue);
        Finish(x30, x31, c3, h + 3 * ldh, epilogue);
        Finish(y30, y31, c3 + 32, h + 3 * ldh + 32, epilogue);
    }

    /// <summary>
    /// Two rows of <see cref="Rows8"/> over four panels side by side (<paramref name="panelStride"/> apart; c and h
    /// columns 32 apart): 16 accumulator chains, each as in <see cref="Rows8"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Rows2Ordered4(float* a, int lda, float* panel, long panelStride, int k, float* c, int ldc, float* h, int ldh,
        RecurrenceEpilogue epilogue)
    {
        float* a0 = a, a1 = a + lda, c0 = c, c1 = c + ldc;
        Vector512<float> x00 = Vector512.Load(c0), x01 = Vector512.Load(c0 + 16), y00 = Vector512.Load(c0 + 32), y01 = Vector512.Load(c0 + 48);
        Vector512<float> z00 = Vector512.Load(c0 + 64), z01 = Vector512.Load(c0 + 80), w00 = Vector512.Load(c0 + 96), w01 = Vector512.Load(c0 + 112);
        Vector512<float> x10 = Vector512.Load(c1), x11 = Vector512.Load(c1 + 16), y10 = Vector512.Load(c1 + 32), y11 = Vector512.Load(c1 + 48);
        Vector512<float> z10 = Vector512.Load(c1 + 64), z11 = Vector512.Load(c1 + 80), w10 = Vector512.Load(c1 + 96), w11 = Vector512.Load(c1 + 112);
        float* p = panel, q = p + panelStride, r = q + panelStride, s = r + panelStride;
        for (int kk = 0; kk < k; kk++, p += Columns, q += Columns, r += Columns, s += Columns)
        {
            var v = Vector512.Create(a0[kk]);
            var u = Vector512.Create(a1[kk]);
            var b0 = Vector512.Load(p);
            var b1 = Vector512.Load(p + 16);
            x00 = Vector512.FusedMultiplyAdd(v, b0, x00); x01 = Vector512.FusedMultiplyAdd(v, b1, x01);
            x10 = Vector512.FusedMultiplyAdd(u, b0, x10); x11 = Vector512.FusedMultiplyAdd(u, b1, x11);
            b0 = Vector512.Load(q);
            b1 = Vector512.Load(q + 16);
            y00 = Vector512.FusedMultiplyAdd(v, b0, y00); y01 = Vector512.FusedMultiplyAdd(v, b1, y01);
            y10 = Vector512.FusedMultiplyAdd(u, b0, y10); y11 = Vector512.FusedMultiplyAdd(u, b1, y11);
            b0 = Vector512.Load(r);
            b1 = Vector512.Load(r + 16);
            z00 = Vector512.FusedMultiplyAdd(v, b0, z00); z01 = Vector512.FusedMultiplyAdd(v, b1, z01);
            z10 = Vector512.FusedMultiplyAdd(u, b0, z10); z11 = Vector512.FusedMultiplyAdd(u, b1, z11);
            b0 = Vector512.Load(s);
            b1 = Vector512.Load(s + 16);
            w00 = Vector512.FusedMultiplyAdd(v, b0, w00); w01 = Vector512.FusedMultiplyAdd(v, b1, w01);
            w10 = Vector512.FusedMultiplyAdd(u, b0, w10); w11 = Vector512.FusedMultiplyAdd(u, b1, w11);
        }
        Finish(x00, x01, c0, h, epilogue);
        Finish(y00, y01, c0 + 32, h + 32, epilogue);
        Finish(z00, z01, c0 + 64, h + 64, epilogue);
        Finish(w00, w01, c0 + 96, h + 96, epilogue);
        Finish(x10, x11, c1, h + ldh, epilogue);
        Finish(y10, y11, c1 + 32, h + ldh + 32, epilogue);
        Finish(z10, z11, c1 + 64, h + ldh + 64, epilogue);
        Finish(w10, w11, c1 + 96, h + ldh + 96, epilogue);
    }

    /// <summary>
    /// <see cref="Row1Ordered"/> over four panels side by side (<paramref name="panelStride"/> apart; c and h
    /// columns 32 apart): 8 accumulator chains instead of 2, each chain as in <see cref="Rows8"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Row1Ordered4(float* a, float* panel, long panelStride, int k, float* c, float* h, RecurrenceEpilogue epilogue)
    {
        Vector512<float> x0 = Vector512.Load(c), x1 = Vector512.Load(c + 16), y0 = Vector512.Load(c + 32), y1 = Vector512.Load(c + 48);
        Vector512<float> z0 = Vector512.Load(c + 64), z1 = Vector512.Load(c + 80), w0 = Vector512.Load(c + 96), w1 = Vector512.Load(c + 112);
        float* p = panel, q = p + panelStride, r = q + panelStride, s = r + panelStride;
        for (int kk = 0; kk < k; kk++, p += Columns, q += Columns, r += Columns, s += Columns)
        {
            var v = Vector512.Create(a[kk]);
            x0 = Vector512.FusedMultiplyAdd(v, Vector512.Load(p), x0); x1 = Vector512.FusedMultiplyAdd(v, Vector512.Load(p + 16), x1);
            y0 = Vector512.FusedMultiplyAdd(v, Vector512.Load(q), y0); y1 = Vector512.FusedMultiplyAdd(v, Vector512.Load(q + 16), y1);
            z0 = Vector512.FusedMultiplyAdd(v, Vector512.Load(r), z0); z1 = Vector512.FusedMultiplyAdd(v, Vector512.Load(r + 16), z1);
            w0 = Vector512.FusedMultiplyAdd(v, Vector512.Load(s), w0); w1 = Vector512.FusedMultiplyAdd(v, Vector512.Load(s + 16), w1);
        }
        Finish(x0, x1, c, h, epilogue);
        Finish(y0, y1, c + 32, h + 32, epilogue);
        Finish(z0, z1, c + 64, h + 64, epilogue);
        Finish(w0, w1, c + 96, h + 96, epilogue);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Finish(Vector512<float> lo, Vector512<float> hi, float* c, float* h, RecurrenceEpilogue epilogue)
    {
        switch (epilogue)
        {
            case RecurrenceEpilogue.Tanh:
                lo = CpuTanh.Of(lo);
                hi = CpuTanh.Of(hi);
                break;
            case RecurrenceEpilogue.Relu:
                lo = Vector512.Max(lo, Vector512<float>.Zero);
                hi = Vector512.Max(hi, Vector512<float>.Zero);
                break;
            case RecurrenceEpilogue.TanhGradient:
            {
                var one = Vector512<float>.One;
                Vector512<float> h0 = Vector512.Load(h), h1 = Vector512.Load(h + 16);
                lo *= one - h0 * h0;
                hi *= one - h1 * h1;
                break;
            }
            case RecurrenceEpilogue.ReluGradient:
                lo = Vector512.ConditionalSelect(Vector512.GreaterThan(Vector512.Load(h), Vector512<float>.Zero), lo, Vector512<float>.Zero);
                hi = Vector512.ConditionalSelect(Vector512.GreaterThan(Vector512.Load(h + 16), Vector512<float>.Zero), hi, Vector512<float>.Zero);
                break;
        }
        lo.Store(c);
        hi.Store(c + 16);
    }
}
