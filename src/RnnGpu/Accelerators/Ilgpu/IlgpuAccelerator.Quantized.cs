using ILGPU;
using ILGPU.Runtime;
using RnnGpu.Kernels;

namespace RnnGpu.Accelerators.Ilgpu;

/// <summary>
/// Quantized weights on the device: each <see cref="QuantizedMatrix"/> is copied to device memory as stored (int8 values and
/// their scales, or bf16 bit patterns) on its first product and kept until <see cref="Release"/> or disposal, and every
/// quantized product (the input projections, each recurrent step, the head) is <see cref="QuantizedGemm"/> over that copy.
/// The recurrences run step by step (the base class's loops): the persistent kernel holds float32 weights.
/// </summary>
public sealed partial class IlgpuAccelerator
{
    private readonly Dictionary<QuantizedMatrix, DeviceQuantizedMatrix> _quantized = new(ReferenceEqualityComparer.Instance);

    /// <summary>A quantized matrix in device memory: int8 values [rows, cols] and scales [rows], or bf16 values [rows, cols].</summary>
    private sealed class DeviceQuantizedMatrix(MemoryBuffer1D<sbyte, Stride1D.Dense>? int8, MemoryBuffer1D<float, Stride1D.Dense>? scales,
        MemoryBuffer1D<ushort, Stride1D.Dense>? bf16) : IDisposable
    {
        public ArrayView<sbyte> Int8 => int8?.View ?? ArrayView<sbyte>.Empty;
        public ArrayView<float> Scales => scales?.View ?? ArrayView<float>.Empty;
        public ArrayView<ushort> Bf16 => bf16?.View ?? ArrayView<ushort>.Empty;

        public void Dispose()
        {
            int8?.Dispose();
            scales?.Dispose();
            bf16?.Dispose();
        }
    }

    protected override void QuantizedGemmCore(in GemmSpec spec, Slice a, QuantizedMatrix b, int column, Slice c, Slice bias) =>
        LaunchQuantizedGemm(spec.M, spec.K, spec.Lda, spec.Ldc, spec.Beta, Act.None, a, b, column, c, bias);

    protected override void QuantizedRnnStepForwardCore(Activation act, int batch, int hidden, Slice hPrev, QuantizedMatrix wHh, Slice h) =>
        LaunchQuantizedGemm(batch, hidden, hidden, hidden, 1f, ActOf(act), hPrev, wHh, 0, h, default);

    /// <summary>C [m, W.Rows] (row stride ldc) = act(A [m, k] (row stride lda) W[:, column .. column + k]^T + beta C (+ bias)).</summary>
    private void LaunchQuantizedGemm(int m, int k, int lda, int ldc, float beta, int act, Slice a, QuantizedMatrix w, int column, Slice c, Slice bias)
    {
        if (m == 0) return;
        var weights = DeviceCopy(w);
        var kernel = Kernels.QuantizedGemm.Value;
        var biasView = bias.Buffer is null ? ArrayView<float>.Empty : View(bias);
        int tileRows = 4 * _gemmGroup.Y, rowsPerLaunch = (int)Math.Min(m, (long)GemmGridLimit.Rows * tileRows);
        for (int m0 = 0; m0 < m; m0 += rowsPerLaunch)
        {
            var args = new QuantizedGemmArgs
            {
                M = Math.Min(rowsPerLaunch, m - m0), N = w.Rows, K = k, Lda = lda, Ldw = w.Cols, Column = column, Ldc = ldc, Act = act,
                Int8 = w.Kind == QuantizedWeights.Int8 ? 1 : 0, HasBias = bias.Buffer is null ? 0 : 1, Beta = beta,
            };
            kernel(QuantizedGemm.Config(args, _gemmGroup.X, _gemmGroup.Y), From(View(a), (long)m0 * lda), weights.Int8, weights.Bf16, weights.Scales,
                biasView, From(View(c), (long)m0 * ldc), args);
        }
    }

    /// <summary>The device copy of <paramref name="w"/>, made on first use.</summary>
    private DeviceQuantizedMatrix DeviceCopy(QuantizedMatrix w)
    {
        if (_quantized.TryGetValue(w, out var copy)) return copy;
        _device.Bind();
        MemoryBuffer1D<sbyte, Stride1D.Dense>? int8 = null;
        MemoryBuffer1D<float, Stride1D.Dense>? scales = null;
        MemoryBuffer1D<ushort, Stride1D.Dense>? bf16 = null;
        try
        {
            if (w.Kind == QuantizedWeights.Int8)
            {
                int8 = _device.Allocate1D<sbyte>(w.Int8Values.Length);
                int8.View.AsContiguous().CopyFromCPU(w.Int8Values);
                scales = _device.Allocate1D<float>(w.Scales.Length);
                scales.View.AsContiguous().CopyFromCPU(w.Scales);
            }
            else
            {
                bf16 = _device.Allocate1D<ushort>(w.Bf16Values.Length);
                bf16.View.AsContiguous().CopyFromCPU(w.Bf16Values);
            }
        }
        catch (Exception e) when (e is AcceleratorException || IlgpuErrors.IsOutOfMemory(e))
        {
            int8?.Dispose();
            scales?.Dispose();
            bf16?.Dispose();
            if (IlgpuErrors.IsOutOfMemory(e))
                throw new DeviceOutOfMemoryException($"{DeviceName}: out of memory for quantized weights [{w.Rows}, {w.Cols}] ({w.Kind.ToName()}): {e.Message}", e);
            throw IlgpuErrors.Failure(DeviceName, (AcceleratorException)e);
        }
        copy = new DeviceQuantizedMatrix(int8, scales, bf16);
        _quantized[w] = copy;
        return copy;
    }

    /// <summary>How many quantized matrices have a device copy now (tests).</summary>
    internal int QuantizedCopies => _quantized.Count;

    public override void Release(QuantizedMatrix weights)
    {
        if (_disposed || !_quantized.Remove(weights, out var copy)) return;
        _device.Bind();
        copy.Dispose();
    }

    private void DisposeQuantized()
    {
        foreach (var copy in _quantized.Values) copy.Dispose();
        _quantized.Clear();
    }
}
