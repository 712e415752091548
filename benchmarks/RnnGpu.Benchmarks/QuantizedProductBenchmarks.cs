using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using BenchmarkDotNet.Attributes;
using RnnGpu.Accelerators;
using RnnGpu.Accelerators.Cpu;

namespace RnnGpu.Benchmarks;

/// <summary>
/// One product of a step, x [Rows, 512] · W [2048, 512]ᵀ (an LSTM's W_hh at hidden 512), on one thread: the int8 kernel
/// (activations quantized: integer products), the bf16 kernel (float32 activations), and the int8 design the engine did
/// not take, kept here as the measurement behind that choice (docs/quantization.md): float32 activations times int8
/// weights widened in registers (vpmovsxbd, vcvtdq2ps, FMA), tiled as the others, 4 output rows at a time.
/// </summary>
public unsafe class QuantizedProductBenchmarks : IFlopCount
{
    private const int N = 2048, K = 512;
    private float[] _x = [], _c = [], _scales = [];
    private byte[] _prepared = [];
    private QuantizedMatrix _int8 = null!, _bf16 = null!;
    private GCHandle[] _pins = [];

    [Params(1, 4)]
    public int Rows { get; set; } = 1;

    public double FlopsOf(string method) => 2.0 * Rows * N * K;

    [GlobalSetup]
    public void Setup()
    {
        var rng = new Random(1);
        var w = Enumerable.Range(0, N * K).Select(_ => (float)rng.NextDouble() - 0.5f).ToArray();
        _x = Enumerable.Range(0, Rows * K).Select(_ => (float)rng.NextDouble() - 0.5f).ToArray();
        _c = new float[Rows * N];
        _scales = new float[Rows];
        _prepared = new byte[Rows * CpuQuantizedProduct.RowBytes(QuantizedWeights.Bf16, K) + 64];
        _int8 = QuantizedMatrix.Quantize(QuantizedWeights.Int8, w, N, K);
        _bf16 = QuantizedMatrix.Quantize(QuantizedWeights.Bf16, w, N, K);
        _pins = [GCHandle.Alloc(_x, GCHandleType.Pinned), GCHandle.Alloc(_c, GCHandleType.Pinned), GCHandle.Alloc(_scales, GCHandleType.Pinned),
            GCHandle.Alloc(_prepared, GCHandleType.Pinned)];
    }

    private float* X => (float*)_pins[0].AddrOfPinnedObject();
    private float* C => (float*)_pins[1].AddrOfPinnedObject();
    private float* Scales => (float*)_pins[2].AddrOfPinnedObject();
    private byte* Prepared => (byte*)_pins[3].AddrOfPinnedObject();

    [Benchmark(Baseline = true)]
    public void Int8()
    {
        CpuQuantizedProduct.Prepare(QuantizedWeights.Int8, X, Rows, K, K, Prepared, Scales);
        CpuQuantizedProduct.Rows(Prepared, Scales, Rows, K, _int8, 0, C, N, 0, N, accumulate: false, null);
    }

    [Benchmark]
    public void Bf16()
    {
        CpuQuantizedProduct.Prepare(QuantizedWeights.Bf16, X, Rows, K, K, Prepared, Scales);
        CpuQuantizedProduct.Rows(Prepared, Scales, Rows, K, _bf16, 0, C, N, 0, N, accumulate: false, null);
    }

    [Benchmark]
    public void Int8WidenedWeights()
    {
        fixed (sbyte* w = _int8.Int8Values)
        fixed (float* s = _int8.Scales)
            for (int j = 0; j < N; j += 4)
            for (int r = 0; r < Rows; r++)
            {
                Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default;
                float* x = X + r * K;
                sbyte* w0 = w + (long)j * K;
                for (int k = 0; k < K; k += 8)
                {
                    var xv = Vector256.Load(x + k);
                    a0 = Fma.MultiplyAdd(Avx.ConvertToVector256Single(Avx2.ConvertToVector256Int32(w0 + k)), xv, a0);
                    a1 = Fma.MultiplyAdd(Avx.ConvertToVector256Single(Avx2.ConvertToVector256Int32(w0 + K + k)), xv, a1);
                    a2 = Fma.MultiplyAdd(Avx.ConvertToVector256Single(Avx2.ConvertToVector256Int32(w0 + 2 * K + k)), xv, a2);
                    a3 = Fma.MultiplyAdd(Avx.ConvertToVector256Single(Avx2.ConvertToVector256Int32(w0 + 3 * K + k)), xv, a3);
                }
                float* c = C + r * N + j;
                (c[0], c[1], c[2], c[3]) = (Vector256.Sum(a0) * s[j], Vector256.Sum(a1) * s[j + 1], Vector256.Sum(a2) * s[j + 2], Vector256.Sum(a3) * s[j + 3]);
            }
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        foreach (var pin in _pins) pin.Free();
    }
}
