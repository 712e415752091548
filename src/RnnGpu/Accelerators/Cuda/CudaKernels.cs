using System.Runtime.CompilerServices;
using System.Text;
using RnnGpu.Accelerators.Cuda.Native;
using static RnnGpu.Accelerators.Cuda.Native.CudaNative;
using static RnnGpu.Accelerators.Cuda.Native.CudaStatus;

namespace RnnGpu.Accelerators.Cuda;

/// <summary>
/// The kernel functions of one accelerator. A kernel file is compiled (or read from the cache) and
/// loaded as a module the first time one of its kernels is launched; each CUfunction is looked up once.
/// A cached image that the driver refuses is compiled again from source and the cache entry replaced.
/// </summary>
internal sealed unsafe class CudaKernels(CudaContextHandle context, CudaCompiler compiler) : IDisposable
{
    public const string PersistentFile = "rnn_persistent.cu";

    private readonly Dictionary<string, CudaModuleHandle> _modules = [];
    private readonly Dictionary<string, nint> _functions = [];

    public nint Gemm => Get("gemm.cl", "gemm");
    public nint RnnStepBackwardAct => Get("rnn_step.cl", "rnn_step_backward_act");
    public nint AddBias => Get("elementwise.cl", "add_bias");
    public nint Scale => Get("elementwise.cl", "scale");
    public nint Multiply => Get("elementwise.cl", "multiply");
    public nint ColumnSum => Get("reduce.cl", "column_sum");
    public nint SquaredNormPartial => Get("reduce.cl", "squared_norm_partial");
    public nint SoftmaxCrossEntropy => Get("losses.cl", "softmax_cross_entropy");
    public nint MseLoss => Get("losses.cl", "mse_loss");
    public nint BceWithLogitsLoss => Get("losses.cl", "bce_with_logits_loss");
    public nint SgdUpdate => Get("optimizers.cl", "sgd_update");
    public nint AdamUpdate => Get("optimizers.cl", "adam_update");

    /// <summary>rnn_persistent_forward_J / rnn_persistent_backward_J of rnn_persistent.cu, J in {1, 2, 4, 8, 16}.</summary>
    public nint Persistent(bool backward, int unitsPerBlock) =>
        Get(PersistentFile, $"rnn_persistent_{(backward ? "backward" : "forward")}_{unitsPerBlock}");

    private nint Get(string file, string name)
    {
        if (_functions.TryGetValue(name, out nint function)) return function;
        if (!_modules.TryGetValue(file, out var module)) _modules[file] = module = Load(file);
        var bytes = Encoding.ASCII.GetBytes(name + "\0");
        fixed (byte* p = bytes)
        {
            int result = cuModuleGetFunction(&function, module.Value, p);
            if (result != CUDA_SUCCESS)
                throw new CudaException(result, Name(result), "cuModuleGetFunction",
                    $"cuModuleGetFunction failed for '{name}' in kernels/{file}: {Name(result)} ({result})");
        }
        GC.KeepAlive(module);
        _functions[name] = function;
        return function;
    }

    private CudaModuleHandle Load(string file)
    {
        var image = compiler.Compile(file);
        int result = CudaModuleHandle.TryLoad(context, image.Bytes, out var module);
        if (result != CUDA_SUCCESS && image.FromCache)
        {
            // A cache entry the driver refuses (another driver, a damaged file): compile it again.
            image = compiler.Compile(file, refresh: true);
            result = CudaModuleHandle.TryLoad(context, image.Bytes, out module);
        }
        if (result != CUDA_SUCCESS)
        {
            string hint = result == CUDA_ERROR_UNSUPPORTED_PTX_VERSION
                ? $" The PTX of NVRTC {compiler.Nvrtc.Version} is newer than this driver accepts: update the driver, or point {CudaLibraries.NvrtcVariable} at an older NVRTC."
                : "";
            throw new CudaException(result, Name(result), "cuModuleLoadData",
                $"cuModuleLoadData failed for kernels/{file} ({image.Target}, NVRTC {compiler.Nvrtc.Version}): {Name(result)} ({result}).{hint}");
        }
        return module!;
    }

    public void Dispose()
    {
        _functions.Clear();
        foreach (var m in _modules.Values) m.Dispose();
        _modules.Clear();
    }
}

/// <summary>
/// One launch: the kernel's arguments in order, then the grid. Each argument is stored in an 8-byte slot
/// (ints and floats in the low bytes) and cuLaunchKernel gets a pointer to each slot; a slice is two
/// arguments, the CUdeviceptr of its buffer and its offset in floats (an idx_t). The buffers are held
/// until the launch is queued, so one that nothing else references cannot be finalized in between.
/// </summary>
internal unsafe ref struct CudaLaunch(nint function)
{
    private Slots _slots;
    private int _count;
    private KeptBuffers _keep;
    private int _kept;

    public void Int(int value) => _slots[_count++] = (uint)value;

    public void Long(long value) => _slots[_count++] = (ulong)value;

    public void Float(float value) => _slots[_count++] = BitConverter.SingleToUInt32Bits(value);

    public void Mem(Slice slice) => Mem(slice, slice.Offset);

    /// <summary>The slice's buffer at another offset (in floats): a sub-problem of a split launch.</summary>
    public void Mem(Slice slice, long offset)
    {
        var buffer = (CudaBuffer)slice.Buffer;
        _slots[_count++] = buffer.Pointer;
        Long(offset);
        _keep[_kept++] = buffer;
    }

    /// <summary>A 1-D launch of <paramref name="blocks"/> blocks of <paramref name="threads"/> threads.</summary>
    public void Run(nint stream, long blocks, int threads) => Run(stream, blocks, 1, 1, threads, 1, 1);

    /// <summary>grid (gx, gy, gz) blocks of (bx, by, bz) threads: OpenCL's global / local and local.</summary>
    public void Run(nint stream, long gx, long gy, long gz, int bx, int by, int bz, int sharedBytes = 0, bool cooperative = false)
    {
        void** args = stackalloc void*[_count];
        int result;
        fixed (ulong* values = &_slots[0])
        {
            for (int i = 0; i < _count; i++) args[i] = values + i;
            result = cooperative
                ? cuLaunchCooperativeKernel(function, (uint)gx, (uint)gy, (uint)gz, (uint)bx, (uint)by, (uint)bz, (uint)sharedBytes, stream, args)
                : cuLaunchKernel(function, (uint)gx, (uint)gy, (uint)gz, (uint)bx, (uint)by, (uint)bz, (uint)sharedBytes, stream, args, null);
        }
        for (int i = 0; i < _kept; i++) GC.KeepAlive(_keep[i]);
        ThrowIfFailed(result, cooperative ? "cuLaunchCooperativeKernel" : "cuLaunchKernel");
    }

    [InlineArray(24)]
    private struct Slots
    {
        private ulong _first;
    }

    [InlineArray(8)]
    private struct KeptBuffers
    {
        private CudaBuffer? _first;
    }
}
