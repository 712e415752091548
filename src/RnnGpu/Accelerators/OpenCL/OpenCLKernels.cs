using System.Runtime.CompilerServices;
using RnnGpu.Accelerators.OpenCL.Native;
using static RnnGpu.Accelerators.OpenCL.Native.OpenCLNative;
using static RnnGpu.Accelerators.OpenCL.Native.OpenCLStatus;

namespace RnnGpu.Accelerators.OpenCL;

/// <summary>
/// The kernel objects of one accelerator. A kernel file is built the first time one of its kernels
/// is launched; each cl_kernel is created once and reused for every launch (the arguments of a
/// kernel object persist, and the accelerator is used by one thread at a time).
/// </summary>
internal sealed class OpenCLKernels(OpenCLCompiler compiler) : IDisposable
{
    private readonly Dictionary<string, OpenCLProgramHandle> _programs = [];
    private readonly Dictionary<string, OpenCLKernelHandle> _kernels = [];

    public OpenCLKernelHandle Gemm => field ??= Get("gemm.cl", "gemm");
    public OpenCLKernelHandle RnnStepBackwardAct => field ??= Get("rnn_step.cl", "rnn_step_backward_act");
    public OpenCLKernelHandle AddBias => field ??= Get("elementwise.cl", "add_bias");
    public OpenCLKernelHandle Scale => field ??= Get("elementwise.cl", "scale");
    public OpenCLKernelHandle Multiply => field ??= Get("elementwise.cl", "multiply");
    public OpenCLKernelHandle ColumnSum => field ??= Get("reduce.cl", "column_sum");
    public OpenCLKernelHandle SquaredNormPartial => field ??= Get("reduce.cl", "squared_norm_partial");
    public OpenCLKernelHandle SoftmaxCrossEntropy => field ??= Get("losses.cl", "softmax_cross_entropy");
    public OpenCLKernelHandle MseLoss => field ??= Get("losses.cl", "mse_loss");
    public OpenCLKernelHandle BceWithLogitsLoss => field ??= Get("losses.cl", "bce_with_logits_loss");
    public OpenCLKernelHandle SgdUpdate => field ??= Get("optimizers.cl", "sgd_update");
    public OpenCLKernelHandle AdamUpdate => field ??= Get("optimizers.cl", "adam_update");

    private unsafe OpenCLKernelHandle Get(string file, string name)
    {
        if (_kernels.TryGetValue(name, out var existing)) return existing;
        if (!_programs.TryGetValue(file, out var program))
            _programs[file] = program = compiler.Build(file);
        var bytes = System.Text.Encoding.ASCII.GetBytes(name + "\0");
        OpenCLKernelHandle kernel;
        int status;
        fixed (byte* p = bytes) kernel = clCreateKernel(program, p, out status);
        if (status != CL_SUCCESS)
        {
            kernel.Dispose();
            throw new OpenCLException(status, "clCreateKernel", $"clCreateKernel failed for '{name}' in kernels/{file}: {Name(status)} ({status})");
        }
        _kernels[name] = kernel;
        return kernel;
    }

    public void Dispose()
    {
        foreach (var k in _kernels.Values) k.Dispose();
        foreach (var p in _programs.Values) p.Dispose();
        _kernels.Clear();
        _programs.Clear();
    }
}

/// <summary>
/// One launch: arguments in order, then the NDRange. A slice is two arguments, the cl_mem and its
/// offset in floats (a 64-bit idx_t). The buffers are held until the launch is queued, so a buffer
/// that nothing else references cannot be finalized between setting its argument and enqueueing.
/// </summary>
internal unsafe ref struct KernelCall(OpenCLKernelHandle kernel)
{
    private uint _index;
    private int _kept;
    private KeptBuffers _keep;

    public void Int(int value) => Set(&value, sizeof(int));

    public void Long(long value) => Set(&value, sizeof(long));

    public void Float(float value) => Set(&value, sizeof(float));

    public void Mem(Slice slice)
    {
        var buffer = (OpenCLBuffer)slice.Buffer;
        nint handle = buffer.Handle.DangerousGetHandle();
        Set(&handle, sizeof(nint));
        Long(slice.Offset);
        _keep[_kept++] = buffer;
    }

    /// <summary>A 1-D launch of <paramref name="groups"/> groups of <paramref name="local"/> work items.</summary>
    public void Run(OpenCLQueueHandle queue, long groups, int local)
    {
        nuint global = (nuint)(groups * local), l = (nuint)local;
        Enqueue(queue, 1, &global, &l);
    }

    /// <summary>A 3-D launch: global and local sizes per dimension (global a multiple of local).</summary>
    public void Run(OpenCLQueueHandle queue, long g0, long g1, long g2, int l0, int l1, int l2)
    {
        nuint* global = stackalloc nuint[] { (nuint)g0, (nuint)g1, (nuint)g2 };
        nuint* local = stackalloc nuint[] { (nuint)l0, (nuint)l1, (nuint)l2 };
        Enqueue(queue, 3, global, local);
    }

    private void Enqueue(OpenCLQueueHandle queue, uint dims, nuint* global, nuint* local)
    {
        ThrowIfFailed(clEnqueueNDRangeKernel(queue, kernel, dims, null, global, local, 0, null, null), "clEnqueueNDRangeKernel");
        for (int i = 0; i < _kept; i++) GC.KeepAlive(_keep[i]);
    }

    private void Set(void* value, int size) =>
        ThrowIfFailed(clSetKernelArg(kernel, _index++, (nuint)size, value), "clSetKernelArg");

    [InlineArray(8)]
    private struct KeptBuffers
    {
        private OpenCLBuffer? _first;
    }
}
