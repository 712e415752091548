namespace RnnGpu.Accelerators;

/// <summary>
/// The contract every back end implements: buffers, the kernels the recurrent cells need (Elman, LSTM, GRU), synchronize.
/// Public methods check shapes and ownership once, here, then call the back end's Core method,
/// so a back end only computes. All matrices are row-major float32.
/// </summary>
public abstract partial class Accelerator : IDisposable
{
    public abstract BackendKind Kind { get; }
    public abstract string DeviceName { get; }

    /// <summary>What this back end can do (<see cref="AcceleratorCapabilities"/>).</summary>
    public abstract AcceleratorCapabilities Capabilities { get; }

    /// <summary>Whether the calling thread is in a batch-invariant pass (<see cref="BatchInvariance.Begin"/>): the kernels read it.</summary>
    protected static bool BatchInvariant => BatchInvariance.IsActive;

    /// <summary>A new zero-filled buffer of <paramref name="length"/> floats.</summary>
    public DeviceBuffer Allocate(long length)
    {
        if (length < 0) throw new ShapeException($"cannot allocate a buffer of {length} floats");
        return AllocateCore(length);
    }

    public void CopyIn(ReadOnlySpan<float> source, Slice destination)
    {
        Check(destination, source.Length, nameof(destination));
        CopyInCore(source, destination);
    }

    public void CopyOut(Slice source, Span<float> destination)
    {
        Check(source, destination.Length, nameof(source));
        CopyOutCore(source, destination);
    }

    /// <summary>
    /// The slice's memory, when the host reads and writes it in place (the CPU back end): data can then be packed
    /// straight into it and read straight out of it rather than through a staging array. False on a device.
    /// </summary>
    public bool TryGetHostSpan(Slice slice, out Span<float> span)
    {
        Check(slice, slice.Length, nameof(slice));
        return TryGetHostSpanCore(slice, out span);
    }

    protected virtual bool TryGetHostSpanCore(Slice slice, out Span<float> span)
    {
        span = default;
        return false;
    }

    public float[] ToArray(Slice source)
    {
        var result = new float[source.Length];
        CopyOut(source, result);
        return result;
    }

    /// <summary>destination = source (same length, on this device).</summary>
    public void Copy(Slice source, Slice destination)
    {
        Check(source, destination.Length, nameof(source));
        Check(destination, source.Length, nameof(destination));
        CheckDisjoint(destination, nameof(destination), (source, nameof(source)));
        CopyCore(source, destination);
    }

    public void Fill(Slice destination, float value)
    {
        Check(destination, destination.Length, nameof(destination));
        FillCore(destination, value);
    }

    /// <summary>C = alpha op(A) op(B) + beta C; see <see cref="GemmSpec"/>.</summary>
    public void Gemm(in GemmSpec spec, Slice a, Slice b, Slice c)
    {
        spec.Validate();
        Check(a, spec.ExtentA, "A");
        Check(b, spec.ExtentB, "B");
        Check(c, spec.ExtentC, "C");
        if (spec.M == 0 || spec.N == 0) return;
        GemmCore(spec, a, b, c);
    }

    /// <summary>
    /// C = alpha op(A) op(B) + beta C + bias, bias [N] added to every row of C, for one product (BatchCount 1): a
    /// layer's input projection and its biases in one pass over C.
    /// </summary>
    public void Gemm(in GemmSpec spec, Slice a, Slice b, Slice c, Slice bias)
    {
        spec.Validate();
        if (spec.BatchCount != 1) throw new ShapeException($"a GEMM with a bias is one product, not a batch of {spec.BatchCount}");
        Check(a, spec.ExtentA, "A");
        Check(b, spec.ExtentB, "B");
        Check(c, spec.ExtentC, "C");
        Check(bias, spec.N, nameof(bias));
        CheckDisjoint(c, "C", (bias, nameof(bias)));
        if (spec.M == 0 || spec.N == 0) return;
        GemmBiasCore(spec, a, b, c, bias);
    }

    /// <summary>The product, then the bias over each row; a back end that adds it in the product's epilogue overrides this.</summary>
    protected virtual void GemmBiasCore(in GemmSpec spec, Slice a, Slice b, Slice c, Slice bias)
    {
        GemmCore(spec, a, b, c);
        if (spec.Ldc == spec.N) AddBiasCore(spec.M, spec.N, bias, c);
        else
            for (int i = 0; i < spec.M; i++) AddBiasCore(1, spec.N, bias, c.Sub((long)i * spec.Ldc, spec.N));
    }

    /// <summary>y[r, c] += bias[c]. y: [rows, cols], bias: [cols].</summary>
    public void AddBias(int rows, int cols, Slice bias, Slice y)
    {
        CheckSizes(("rows", rows), ("cols", cols));
        Check(bias, cols, nameof(bias));
        Check(y, (long)rows * cols, nameof(y));
        AddBiasCore(rows, cols, bias, y);
    }

    /// <summary>sum[c] = beta sum[c] + Σ_r x[r, c]. x: [rows, cols], sum: [cols]. Bias gradients.</summary>
    public void ColumnSum(int rows, int cols, Slice x, Slice sum, float beta)
    {
        CheckSizes(("rows", rows), ("cols", cols));
        Check(x, (long)rows * cols, nameof(x));
        Check(sum, cols, nameof(sum));
        ColumnSumCore(rows, cols, x, sum, beta);
    }

    /// <summary>
    /// One recurrent step: h = act(pre + hPrev W_hh^T).
    /// pre, hPrev, h: [batch, hidden]; wHh: [hidden, hidden]. pre already holds x W_ih^T + b_ih + b_hh.
    /// </summary>
    public void RnnStepForward(Activation act, int batch, int hidden, Slice pre, Slice hPrev, Slice wHh, Slice h)
    {
        CheckActivation(act);
        CheckSizes(("batch", batch), ("hidden", hidden));
        long bh = (long)batch * hidden;
        Check(pre, bh, nameof(pre));
        Check(hPrev, bh, nameof(hPrev));
        Check(wHh, (long)hidden * hidden, nameof(wHh));
        Check(h, bh, nameof(h));
        CheckDisjoint(h, nameof(h), (hPrev, nameof(hPrev)), (wHh, nameof(wHh)));
        if (pre.Overlaps(h) && pre.Offset != h.Offset)
            throw new ShapeException("pre and h must be the same slice or not overlap");
        RnnStepForwardCore(act, batch, hidden, pre, hPrev, wHh, h);
    }

    /// <summary>
    /// One step of BPTT. In: dPre holds dL/dh_t from the layer's output, dhNext the gradient carried
    /// back from step t+1. Out: dPre = (dPre + dhNext) * act'(h) (overwritten), dhPrev = dPre W_hh.
    /// h, dhNext, dPre, dhPrev: [batch, hidden]; wHh: [hidden, hidden]. act' is taken from the output h.
    /// </summary>
    public void RnnStepBackward(Activation act, int batch, int hidden, Slice h, Slice wHh, Slice dhNext, Slice dPre, Slice dhPrev)
    {
        CheckActivation(act);
        CheckSizes(("batch", batch), ("hidden", hidden));
        long bh = (long)batch * hidden;
        Check(h, bh, nameof(h));
        Check(wHh, (long)hidden * hidden, nameof(wHh));
        Check(dhNext, bh, nameof(dhNext));
        Check(dPre, bh, nameof(dPre));
        Check(dhPrev, bh, nameof(dhPrev));
        CheckDisjoint(dPre, nameof(dPre), (h, nameof(h)), (wHh, nameof(wHh)), (dhNext, nameof(dhNext)), (dhPrev, nameof(dhPrev)));
        CheckDisjoint(dhPrev, nameof(dhPrev), (h, nameof(h)), (wHh, nameof(wHh)), (dhNext, nameof(dhNext)));
        RnnStepBackwardCore(act, batch, hidden, h, wHh, dhNext, dPre, dhPrev);
    }

    /// <summary>
    /// Softmax cross-entropy over rows. logits, dLogits: [rows, classes]; targets: [rows] class ids
    /// stored as floats; loss: [rows], each row's -log softmax(logits)[target].
    /// dLogits = gradScale (softmax(logits) - onehot(target)). A row whose target is not a class id in
    /// [0, classes) gets a NaN loss and gradient, never a read outside the row.
    /// </summary>
    public void SoftmaxCrossEntropy(int rows, int classes, Slice logits, Slice targets, Slice dLogits, Slice loss, float gradScale)
    {
        CheckSizes(("rows", rows));
        if (classes < 1) throw new ShapeException($"cross-entropy needs at least one class, got {classes}");
        long n = (long)rows * classes;
        Check(logits, n, nameof(logits));
        Check(targets, rows, nameof(targets));
        Check(dLogits, n, nameof(dLogits));
        Check(loss, rows, nameof(loss));
        SoftmaxCrossEntropyCore(rows, classes, logits, targets, dLogits, loss, gradScale);
    }

    /// <summary>Squared error per element: loss = (pred - target)^2, dPred = gradScale 2 (pred - target).</summary>
    public void MseLoss(int n, Slice pred, Slice target, Slice dPred, Slice loss, float gradScale)
    {
        CheckElementwiseLoss(n, pred, target, dPred, loss);
        MseLossCore(n, pred, target, dPred, loss, gradScale);
    }

    /// <summary>
    /// Binary cross-entropy on logits per element, in the stable form
    /// loss = max(x, 0) - x t + log(1 + exp(-|x|)); dX = gradScale (sigmoid(x) - t).
    /// </summary>
    public void BceWithLogitsLoss(int n, Slice logits, Slice target, Slice dLogits, Slice loss, float gradScale)
    {
        CheckElementwiseLoss(n, logits, target, dLogits, loss);
        BceWithLogitsLossCore(n, logits, target, dLogits, loss, gradScale);
    }

    /// <summary>y = a ⊙ b element-wise; y may be a itself. Dropout masks, forward and backward.</summary>
    public void Multiply(Slice a, Slice b, Slice y)
    {
        Check(a, y.Length, nameof(a));
        Check(b, y.Length, nameof(b));
        Check(y, y.Length, nameof(y));
        CheckDisjoint(y, nameof(y), (b, nameof(b)));
        if (y.Overlaps(a) && y.Offset != a.Offset) throw new ShapeException("y and a must be the same slice or not overlap");
        MultiplyCore(a, b, y);
    }

    /// <summary>x *= alpha. Gradient clipping.</summary>
    public void Scale(Slice x, float alpha)
    {
        Check(x, x.Length, nameof(x));
        ScaleCore(x, alpha);
    }

    /// <summary>Σ x_i^2, accumulated in double where the device allows. Synchronizes.</summary>
    public double SquaredNorm(Slice x)
    {
        Check(x, x.Length, nameof(x));
        return SquaredNormCore(x);
    }

    /// <summary>torch.optim.SGD on one flat parameter vector; momentum: same length, unused when Momentum = 0.</summary>
    public void SgdUpdate(Slice param, Slice grad, Slice momentum, in SgdStep step)
    {
        Check(param, param.Length, nameof(param));
        Check(grad, param.Length, nameof(grad));
        Check(momentum, param.Length, nameof(momentum));
        SgdUpdateCore(param, grad, momentum, step);
    }

    /// <summary>torch.optim.Adam on one flat parameter vector; m, v: first and second moments.</summary>
    public void AdamUpdate(Slice param, Slice grad, Slice m, Slice v, in AdamStep step)
    {
        Check(param, param.Length, nameof(param));
        Check(grad, param.Length, nameof(grad));
        Check(m, param.Length, nameof(m));
        Check(v, param.Length, nameof(v));
        AdamUpdateCore(param, grad, m, v, step);
    }

    /// <summary>Waits until every queued kernel and copy has finished.</summary>
    public abstract void Synchronize();

    public abstract void Dispose();

    private void CheckElementwiseLoss(int n, Slice pred, Slice target, Slice grad, Slice loss)
    {
        CheckSizes(("n", n));
        Check(pred, n, "prediction");
        Check(target, n, nameof(target));
        Check(grad, n, "gradient");
        Check(loss, n, nameof(loss));
    }

    /// <summary>
    /// The slice belongs to this accelerator, is alive, lies inside its buffer, and has at least
    /// <paramref name="needed"/> elements. Misuse of the contract is a <see cref="ShapeException"/>.
    /// </summary>
    private void Check(Slice s, long needed, string name)
    {
        if (s.Buffer is null) throw new ShapeException($"{name}: no buffer");
        if (!ReferenceEquals(s.Buffer.Owner, this))
            throw new ShapeException($"{name}: the buffer belongs to another accelerator ({s.Buffer.Owner.Kind}: {s.Buffer.Owner.DeviceName})");
        if (s.Buffer.IsDisposed) throw new ShapeException($"{name}: the buffer was disposed");
        if (s.Offset < 0 || s.Length < 0 || s.Offset + s.Length > s.Buffer.Length)
            throw new ShapeException($"{name}: slice [{s.Offset}, {s.Offset + s.Length}) lies outside its buffer of {s.Buffer.Length}");
        if (s.Length < needed)
            throw new ShapeException($"{name}: slice of {s.Length} floats, the kernel needs {needed}");
    }

    private static void CheckSizes(params ReadOnlySpan<(string Name, int Value)> sizes)
    {
        foreach (var (name, value) in sizes)
            if (value < 0) throw new ShapeException($"{name} is {value}: sizes cannot be negative");
    }

    private static void CheckActivation(Activation act)
    {
        if (!Enum.IsDefined(act)) throw new ShapeException($"unknown activation {(int)act}");
    }

    /// <summary>An output the kernel writes must not share elements with what it reads, or the result depends on the order of work.</summary>
    private static void CheckDisjoint(Slice output, string outputName, params ReadOnlySpan<(Slice Slice, string Name)> inputs)
    {
        foreach (var (input, name) in inputs)
            if (output.Overlaps(input)) throw new ShapeException($"{outputName} overlaps {name}: the kernel cannot write where it reads");
    }
}
