using System.Numerics;
using ILGPU;
using ILGPU.Algorithms;
using ILGPU.Runtime;
using ILGPU.Runtime.CPU;
using RnnGpu.Kernels;

namespace RnnGpu.Accelerators.Ilgpu;

/// <summary>
/// The back end over ILGPU: the kernels of kernels/ on one ILGPU accelerator, CUDA (`--backend cuda`), OpenCL
/// (`--backend opencl`) or ILGPU's CPU accelerator (`--backend ilgpu-cpu`), which runs each simulated GPU thread as
/// an OS thread: the very code a GPU runs, slow by nature, for tests and debugging. Launches are queued on the
/// accelerator's default stream in order; copies out, the squared norm and <see cref="Synchronize"/> wait. Every
/// operation first binds the accelerator to the calling thread (a CUDA context is current per thread), so any thread
/// may use it, one at a time.
/// </summary>
public sealed partial class IlgpuAccelerator : Accelerator
{
    /// <summary>The context, when this accelerator owns it (ILGPU's CPU accelerator); GPU contexts are shared (IlgpuDevices).</summary>
    private readonly Context? _ownedContext;
    private readonly ILGPU.Runtime.Accelerator _device;
    private readonly IlgpuKernels _kernels;
    /// <summary>Threads per group of the 1-D kernels and the reductions: a power of two.</summary>
    private readonly int _group;
    /// <summary>At most this many groups for the grid-stride kernels.</summary>
    private readonly int _maxGroups;
    /// <summary>The GEMM's group shape; its tile is four times that (<see cref="RnnGpu.Kernels.Gemm"/>).</summary>
    private readonly (int X, int Y) _gemmGroup;
    private const int NormMaxGroups = 64;
    private MemoryBuffer1D<double, Stride1D.Dense>? _normPartials;
    private MemoryBuffer1D<float, Stride1D.Dense>? _normPartialsFloat;
    private bool _disposed;

    private IlgpuAccelerator(Context? ownedContext, ILGPU.Runtime.Accelerator device, BackendKind kind, int index, string name)
    {
        _ownedContext = ownedContext;
        _device = device;
        Kind = kind;
        DeviceIndex = index;
        DeviceName = name;
        _group = 1;
        while (_group * 2 <= Math.Min(device.MaxNumThreadsPerGroup, 256)) _group *= 2;
        _maxGroups = Math.Max(1, device.NumMultiprocessors) * 4;
        // ILGPU's CPU accelerator runs a thread per simulated GPU thread: the smallest tile keeps launches cheap there.
        _gemmGroup = device is CPUAccelerator || device.MaxNumThreadsPerGroup < 256 ? (4, 4) : (16, 16);
        GemmGridLimit = (Math.Max(1, device.MaxGridSize.Y), Math.Max(1, device.MaxGridSize.Z));
        PersistentSpinLimit = device is CPUAccelerator ? 0 : 1 << 24;
        _kernels = new IlgpuKernels(device, name);
        // CUDA and the CPU have doubles; an OpenCL device says whether it has (cl_khr_fp64).
        bool fp64 = device.Capabilities is not ILGPU.Runtime.OpenCL.CLCapabilityContext cl || cl.Float64;
        Capabilities = new AcceleratorCapabilities(ParallelCallers: false, Threads: 1, HostMemory: false, fp64);
    }

    public const string CpuDeviceName = "ILGPU CPU accelerator (simulated GPU, warp 4)";

    /// <summary>ILGPU's CPU accelerator as its default device kind (warp 4, groups of up to 16 threads).</summary>
    public static IlgpuAccelerator OpenCpu() => OpenCpu(CPUDevice.Default, CpuDeviceName);

    /// <summary>ILGPU's CPU accelerator simulating <paramref name="device"/> (tests use other warp sizes and several multiprocessors).</summary>
    internal static IlgpuAccelerator OpenCpu(CPUDevice device, string name)
    {
        var context = Context.Create(builder => builder.CPU(device).EnableAlgorithms());
        return Create(context, ownsContext: true, context.GetCPUDevice(0), BackendKind.IlgpuCpu, 0, name);
    }

    /// <summary>
    /// An accelerator on <paramref name="device"/> of <paramref name="context"/>; with <paramref name="ownsContext"/>
    /// it disposes the context with itself (also when this fails), else the context is shared and outlives it.
    /// </summary>
    internal static IlgpuAccelerator Create(Context context, bool ownsContext, Device device, BackendKind kind, int index, string name)
    {
        ILGPU.Runtime.Accelerator? accelerator = null;
        try
        {
            accelerator = device.CreateAccelerator(context);
            return new IlgpuAccelerator(ownsContext ? context : null, accelerator, kind, index, name);
        }
        catch (Exception e)
        {
            accelerator?.Dispose();
            if (ownsContext) context.Dispose();
            if (e is RnnGpuException) throw;
            throw new BackendUnavailableException($"{name} could not be opened: {e.Message}");
        }
    }

    public override BackendKind Kind { get; }

    public override AcceleratorCapabilities Capabilities { get; }

    /// <summary>The device's index among its back end's devices, as `rnngpu devices` lists them.</summary>
    public int DeviceIndex { get; }

    public override string DeviceName { get; }

    protected override DeviceBuffer AllocateCore(long length)
    {
        _device.Bind();
        MemoryBuffer1D<float, Stride1D.Dense>? memory = null;
        try
        {
            memory = _device.Allocate1D<float>(Math.Max(length, 1));
            memory.MemSetToZero();
            return new IlgpuBuffer(this, length, memory);
        }
        catch (Exception e) when (IlgpuErrors.IsOutOfMemory(e))
        {
            memory?.Dispose();
            throw new DeviceOutOfMemoryException($"{DeviceName}: out of memory for a buffer of {length:N0} floats ({length * 4.0 / (1 << 20):N0} MiB): {e.Message}", e);
        }
        catch (AcceleratorException e)
        {
            memory?.Dispose();
            throw new DeviceException($"{DeviceName}: a buffer of {length:N0} floats could not be allocated: {e.Message}", e);
        }
    }

    protected override void CopyInCore(ReadOnlySpan<float> source, Slice destination)
    {
        if (source.IsEmpty) return;
        try
        {
            View(destination).CopyFromCPU(source);
        }
        catch (AcceleratorException e)
        {
            throw IlgpuErrors.Failure(DeviceName, e);
        }
    }

    /// <summary>Waits for the queued work; a kernel's failure surfaces here (or in <see cref="Synchronize"/>) as a <see cref="DeviceException"/>.</summary>
    protected override void CopyOutCore(Slice source, Span<float> destination)
    {
        if (destination.IsEmpty) return;
        try
        {
            View(source).CopyToCPU(destination);
            CheckPersistentTimeout();
        }
        catch (AcceleratorException e)
        {
            throw IlgpuErrors.Failure(DeviceName, e);
        }
    }

    protected override void CopyCore(Slice source, Slice destination)
    {
        if (destination.Length > 0) View(source).CopyTo(View(destination));
    }

    protected override void FillCore(Slice destination, float value)
    {
        if (destination.Length > 0) Kernels.Fill(Stride(destination.Length), View(destination), destination.Length, value);
    }

    protected override void GemmCore(in GemmSpec spec, Slice a, Slice b, Slice c) => LaunchGemm(spec, Act.None, a, b, c);

    protected override void AddBiasCore(int rows, int cols, Slice bias, Slice y)
    {
        long n = (long)rows * cols;
        if (n > 0) Kernels.AddBias(Stride(n), View(y, n), View(bias), n, cols);
    }

    protected override void ColumnSumCore(int rows, int cols, Slice x, Slice sum, float beta)
    {
        if (cols == 0) return;
        int lanes = Math.Max(1, _group / 16);
        Kernels.ColumnSum(Reductions.ColumnSumConfig(cols, 16, lanes), View(x, (long)rows * cols), View(sum), rows, cols, beta);
    }

    protected override void RnnStepForwardCore(Activation act, int batch, int hidden, Slice pre, Slice hPrev, Slice wHh, Slice h)
    {
        // h = act(pre + hPrev W_hh^T): the GEMM with beta 1 over C = h, after pre is copied there unless it is there already.
        long bh = (long)batch * hidden;
        if (bh == 0) return;
        if (!(ReferenceEquals(pre.Buffer, h.Buffer) && pre.Offset == h.Offset)) View(pre, bh).CopyTo(View(h, bh));
        LaunchGemm(GemmSpec.Dense(false, true, batch, hidden, hidden, 1f, 1f), ActOf(act), hPrev, wHh, h);
    }

    protected override void RnnStepBackwardCore(Activation act, int batch, int hidden, Slice h, Slice wHh, Slice dhNext, Slice dPre, Slice dhPrev)
    {
        long bh = (long)batch * hidden;
        if (bh == 0) return;
        Kernels.StepBackwardAct(Stride(bh), View(h, bh), View(dhNext, bh), View(dPre, bh), bh, ActOf(act));
        // dhPrev = dPre W_hh: [batch, hidden] x [hidden, hidden]
        LaunchGemm(GemmSpec.Dense(false, false, batch, hidden, hidden), Act.None, dPre, wHh, dhPrev);
    }

    protected override void LstmPointwiseForwardCore(int batch, int hidden, Slice gates, Slice cPrev, Slice c, Slice m)
    {
        long n = (long)batch * hidden;
        if (n > 0) Kernels.LstmForward(Stride(n), View(gates, 4 * n), View(cPrev, n), View(c, n), View(m, n), n, hidden);
    }

    protected override void LstmPointwiseBackwardCore(int batch, int hidden, Slice gates, Slice cPrev, Slice c, Slice dm, Slice dc, Slice dGates)
    {
        long n = (long)batch * hidden;
        if (n > 0) Kernels.LstmBackward(Stride(n), View(gates, 4 * n), View(cPrev, n), View(c, n), View(dm, n), View(dc, n), View(dGates, 4 * n), n, hidden);
    }

    protected override void GruPointwiseForwardCore(int batch, int hidden, Slice gates, Slice a, Slice hPrev, Slice h, Slice hn)
    {
        long n = (long)batch * hidden;
        if (n > 0) Kernels.GruForward(Stride(n), View(gates, 3 * n), View(a, 3 * n), View(hPrev, n), View(h, n), View(hn, n), n, hidden);
    }

    protected override void GruPointwiseBackwardCore(int batch, int hidden, Slice gates, Slice hn, Slice hPrev, Slice dh, Slice dGates,
        Slice dGatesHidden, Slice dhPrev, bool accumulate)
    {
        long n = (long)batch * hidden;
        if (n > 0)
            Kernels.GruBackward(Stride(n), View(gates, 3 * n), View(hn, n), View(hPrev, n), View(dh, n), View(dGates, 3 * n), View(dGatesHidden, 3 * n),
                View(dhPrev, n), n, hidden, accumulate ? 1f : 0f);
    }

    protected override void SoftmaxCrossEntropyCore(int rows, int classes, Slice logits, Slice targets, Slice dLogits, Slice loss, float gradScale)
    {
        if (rows == 0 || classes == 0) return;
        long n = (long)rows * classes;
        Kernels.SoftmaxCrossEntropy(Stride(rows), View(logits, n), View(targets, rows), View(dLogits, n), View(loss, rows), rows, classes, gradScale);
    }

    protected override void MseLossCore(int n, Slice pred, Slice target, Slice dPred, Slice loss, float gradScale)
    {
        if (n > 0) Kernels.MseLoss(Stride(n), View(pred, n), View(target, n), View(dPred, n), View(loss, n), n, gradScale);
    }

    protected override void BceWithLogitsLossCore(int n, Slice logits, Slice target, Slice dLogits, Slice loss, float gradScale)
    {
        if (n > 0) Kernels.BceWithLogitsLoss(Stride(n), View(logits, n), View(target, n), View(dLogits, n), View(loss, n), n, gradScale);
    }

    protected override void MultiplyCore(Slice a, Slice b, Slice y)
    {
        if (y.Length > 0) Kernels.Multiply(Stride(y.Length), View(a), View(b), View(y), y.Length);
    }

    protected override void ScaleCore(Slice x, float alpha)
    {
        if (x.Length > 0) Kernels.Scale(Stride(x.Length), View(x), x.Length, alpha);
    }

    protected override double SquaredNormCore(Slice x)
    {
        if (x.Length == 0) return 0;
        try
        {
            double sum = SquaredNormOnDevice(x);
            CheckPersistentTimeout();
            return sum;
        }
        catch (AcceleratorException e)
        {
            throw IlgpuErrors.Failure(DeviceName, e);
        }
    }

    /// <summary>
    /// One partial per group on the device, added here in double; the group count depends only on the length, so the
    /// result is the same run after run. In double where the device has it, else in float.
    /// </summary>
    private double SquaredNormOnDevice(Slice x)
    {
        int groups = (int)Math.Min((x.Length + _group - 1) / _group, NormMaxGroups);
        return Capabilities.Float64
            ? SumOfPartials(ref _normPartials, Kernels.SquaredNormPartial, x, groups)
            : SumOfPartials(ref _normPartialsFloat, Kernels.SquaredNormPartialFloat, x, groups);
    }

    private double SumOfPartials<T>(ref MemoryBuffer1D<T, Stride1D.Dense>? partials, Action<KernelConfig, ArrayView<float>, ArrayView<T>, long> kernel,
        Slice x, int groups) where T : unmanaged, INumberBase<T>
    {
        partials ??= _device.Allocate1D<T>(NormMaxGroups);
        kernel(Reductions.SquaredNormConfig<T>(groups, _group), View(x), partials.View, x.Length);
        Span<T> host = stackalloc T[groups];
        partials.View.SubView(0, groups).AsContiguous().CopyToCPU(host);
        double sum = 0;
        foreach (var p in host) sum += double.CreateTruncating(p);
        return sum;
    }

    protected override void SgdUpdateCore(Slice param, Slice grad, Slice momentum, in SgdStep step)
    {
        long n = param.Length;
        if (n > 0)
            Kernels.SgdUpdate(Stride(n), View(param), View(grad, n), View(momentum, n), n, step.LearningRate, step.Momentum, step.WeightDecay, step.FirstStep ? 1 : 0);
    }

    protected override void AdamUpdateCore(Slice param, Slice grad, Slice m, Slice v, in AdamStep step)
    {
        long n = param.Length;
        if (n > 0)
            Kernels.AdamUpdate(Stride(n), View(param), View(grad, n), View(m, n), View(v, n), n,
                step.Beta1, step.Beta2, step.Epsilon, step.WeightDecay, step.StepSize, step.BiasCorrection2Sqrt);
    }

    public override void Synchronize()
    {
        _device.Bind();
        try
        {
            _device.Synchronize();
        }
        catch (AcceleratorException e)
        {
            throw IlgpuErrors.Failure(DeviceName, e);
        }
        CheckPersistentTimeout();
    }

    public override void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _normPartials?.Dispose();
        _normPartialsFloat?.Dispose();
        _barrier?.Dispose();
        _steps?.Dispose();
        DisposeQuantized();
        _device.Dispose();
        _ownedContext?.Dispose();
    }

    /// <summary>
    /// The most row tiles and batches one GEMM launch may have: the device's grid limits (CUDA: 65535 in Y and Z).
    /// Taller products and longer batches are split into launches over consecutive rows and batches. Tests lower it.
    /// </summary>
    internal (int Rows, int Batches) GemmGridLimit { get; set; }

    private void LaunchGemm(in GemmSpec s, int act, Slice a, Slice b, Slice c)
    {
        if (s.M == 0 || s.N == 0) return;
        int tileRows = 4 * _gemmGroup.Y, rowsPerLaunch = (int)Math.Min(s.M, (long)GemmGridLimit.Rows * tileRows);
        for (int z0 = 0; z0 < s.BatchCount; z0 += GemmGridLimit.Batches)
        for (int m0 = 0; m0 < s.M; m0 += rowsPerLaunch)
        {
            int rows = Math.Min(rowsPerLaunch, s.M - m0), batches = Math.Min(GemmGridLimit.Batches, s.BatchCount - z0);
            var args = new GemmArgs
            {
                TransA = s.TransA ? 1 : 0, TransB = s.TransB ? 1 : 0, M = rows, N = s.N, K = s.K, Act = act,
                Lda = s.Lda, Ldb = s.Ldb, Ldc = s.Ldc, Alpha = s.Alpha, Beta = s.Beta,
                StrideA = s.StrideA, StrideB = s.StrideB, StrideC = s.StrideC,
            };
            // Row m0 of op(A) starts m0 columns in when A is stored transposed; batch z0 starts z0 strides in.
            long offA = z0 * s.StrideA + (s.TransA ? m0 : (long)m0 * s.Lda), offB = z0 * s.StrideB, offC = z0 * s.StrideC + (long)m0 * s.Ldc;
            Kernels.Gemm(RnnGpu.Kernels.Gemm.Config(args, _gemmGroup.X, _gemmGroup.Y, batches),
                From(View(a), offA), From(View(b), offB), From(View(c), offC), args);
        }
    }

    /// <summary>The view from an offset on (an empty operand, K = 0, stays as it is: ILGPU asserts on any index into it).</summary>
    private static ArrayView<float> From(ArrayView<float> view, long offset) => offset == 0 ? view : view.SubView(offset);

    private static int ActOf(Activation act) => act == Activation.Tanh ? Act.Tanh : Act.Relu;

    /// <summary>A grid-stride launch over n items: one item per thread up to the device's fill.</summary>
    private KernelConfig Stride(long n) => new((int)Math.Clamp((n + _group - 1) / _group, 1, _maxGroups), _group);

    /// <summary>The kernels, with the accelerator bound to this thread for the launch.</summary>
    private IlgpuKernels Kernels
    {
        get
        {
            _device.Bind();
            return _kernels;
        }
    }

    private ArrayView<float> View(Slice s) => View(s, s.Length);

    /// <summary>
    /// The first <paramref name="length"/> floats of the slice (the contract checked that it holds them), with the
    /// accelerator bound to this thread for the copy or launch that takes it.
    /// </summary>
    private ArrayView<float> View(Slice s, long length)
    {
        _device.Bind();
        return ((IlgpuBuffer)s.Buffer).Memory.View.SubView(s.Offset, length);
    }
}
