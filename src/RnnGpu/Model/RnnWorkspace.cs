using RnnGpu.Accelerators;

namespace RnnGpu.Model;

/// <summary>
/// Device buffers for batches of up to (batch, time) shape, allocated once and reused across calls.
/// Everything is packed time-major (<see cref="StepLayout"/>): step t is one contiguous [b_t, *] block.
/// The layout of the batch in flight is <see cref="Layout"/>. Backward buffers are made on the first
/// training call, dropout buffers on the first training call with dropout.
/// </summary>
internal sealed class RnnWorkspace : IDisposable
{
    private readonly Accelerator _acc;
    private readonly RnnConfig _config;
    private readonly List<DeviceBuffer> _owned = new();
    private DeviceBuffer?[,]? _previous, _dropped, _masks;
    private BackwardBuffers? _backward;

    public RnnWorkspace(Accelerator acc, RnnConfig config, int batch, int time)
    {
        _acc = acc;
        _config = config;
        Batch = batch;
        Time = time;
        Layout = StepLayout.Full(batch, time);
        long capacity = (long)time * batch, h = config.HiddenSize;
        Input = Own(capacity * config.InputSize);
        States = new DeviceBuffer[config.NumLayers, config.Directions];
        Final = new DeviceBuffer[config.NumLayers, config.Directions];
        for (int l = 0; l < config.NumLayers; l++)
        for (int d = 0; d < config.Directions; d++)
        {
            States[l, d] = Own((capacity + batch) * h);
            Final[l, d] = Own(batch * h);
        }
        HeadOutput = config.HasHead ? Own((config.ManyToOne ? batch : capacity) * config.OutputSize) : null;
        BiasSums = Own((long)config.NumLayers * config.Directions * h);
    }

    /// <summary>[L * D, H]: b_ih + b_hh of each layer and direction, so a step's input gets one bias pass, not two.</summary>
    public DeviceBuffer BiasSums { get; }

    public Slice BiasSum(int layer, int direction) => BiasSums.Slice((long)(layer * _config.Directions + direction) * H, H);

    public int Batch { get; }
    public int Time { get; }

    private float[] _staging = [], _targetStaging = [];

    /// <summary>A host array of at least <paramref name="length"/> floats, kept for the next call: packing on the host allocates nothing in steady state.</summary>
    public float[] Staging(long length) => Grown(ref _staging, length);

    /// <summary>Like <see cref="Staging"/>, for a packed training target, which lives while the input's staging is reused.</summary>
    public float[] TargetStaging(long length) => Grown(ref _targetStaging, length);

    private static float[] Grown(ref float[] array, long length)
    {
        if (array.Length < length) array = new float[length];
        return array;
    }

    /// <summary>The layout of the batch currently loaded: its rows fit in this workspace.</summary>
    public StepLayout Layout { get; set; }

    public long StepSize => (long)Batch * _config.HiddenSize;

    /// <summary>x, packed: [Rows, I].</summary>
    public DeviceBuffer Input { get; }

    /// <summary>
    /// Per layer and direction, [Rows + B, H]: every step's state, and the initial state. The forward
    /// direction keeps h0 first and step t at row B + offset_t, so the state each step starts from is the
    /// block before it; the reverse direction keeps step t at row offset_t and h0 last, for the same reason.
    /// </summary>
    public DeviceBuffer[,] States { get; }

    /// <summary>Per layer and direction, [B, H]: each sequence's final state (sorted order).</summary>
    public DeviceBuffer[,] Final { get; }

    /// <summary>The head's raw outputs: [Rows, O], or [B, O] many-to-one; null without a head.</summary>
    public DeviceBuffer? HeadOutput { get; }

    private long H => _config.HiddenSize;

    /// <summary>Row (in units of H) where step t's block starts in States[l, d].</summary>
    private long StepRow(int direction, int t) => (direction == 0 ? Batch : 0) + Layout.Offsets[t];

    private long InitialRow(int direction) => direction == 0 ? 0 : Layout.Rows;

    /// <summary>Step t's states, the first <paramref name="rows"/> sequences: [rows, H].</summary>
    public Slice Step(int layer, int direction, int t, int rows) => States[layer, direction].Slice(StepRow(direction, t) * H, rows * H);

    /// <summary>The initial state rows [first, first + rows): [rows, H].</summary>
    public Slice Initial(int layer, int direction, int first, int rows) =>
        States[layer, direction].Slice((InitialRow(direction) + first) * H, rows * H);

    /// <summary>Every step's output of one direction, packed: [Rows, H].</summary>
    public Slice Outputs(int layer, int direction) => States[layer, direction].Slice(StepRow(direction, 0) * H, Layout.Rows * H);

    /// <summary>
    /// The state each row's step started from, packed like <see cref="Outputs"/>: [Rows, H]. Contiguous in
    /// States for a uniform layout; otherwise gathered into a buffer before the weight gradient.
    /// </summary>
    public Slice Previous(int layer, int direction)
    {
        if (Layout.Uniform)
            return direction == 0
                ? States[layer, direction].Slice(0, Layout.Rows * H)
                : States[layer, direction].Slice(Batch * H, Layout.Rows * H);
        return PreviousBuffer(layer, direction).Slice(0, Layout.Rows * H);
    }

    public DeviceBuffer PreviousBuffer(int layer, int direction)
    {
        _previous ??= new DeviceBuffer?[_config.NumLayers, _config.Directions];
        return _previous[layer, direction] ??= Own((long)Time * Batch * H);
    }

    /// <summary>What the layer above reads: the outputs, or with dropout in training their masked copy [Rows, H].</summary>
    public DeviceBuffer Dropped(int layer, int direction) =>
        (_dropped ??= new DeviceBuffer?[_config.NumLayers, _config.Directions])[layer, direction] ??= Own((long)Time * Batch * H);

    /// <summary>The dropout mask of a layer's output, 0 or 1 / (1 - p): [Rows, H].</summary>
    public DeviceBuffer Mask(int layer, int direction) =>
        (_masks ??= new DeviceBuffer?[_config.NumLayers, _config.Directions])[layer, direction] ??= Own((long)Time * Batch * H);

    public BackwardBuffers Backward => _backward ??= new BackwardBuffers(this);

    private DeviceBuffer Own(long length)
    {
        var buffer = _acc.Allocate(length);
        _owned.Add(buffer);
        return buffer;
    }

    public void Dispose()
    {
        foreach (var b in _owned) b.Dispose();
        _owned.Clear();
    }

    /// <summary>Buffers of BPTT and of the loss.</summary>
    internal sealed class BackwardBuffers
    {
        public BackwardBuffers(RnnWorkspace ws)
        {
            var c = ws._config;
            long capacity = (long)ws.Time * ws.Batch, bh = ws.StepSize;
            DStates = new DeviceBuffer[c.NumLayers, c.Directions];
            DFinal = new DeviceBuffer[c.NumLayers, c.Directions];
            for (int l = 0; l < c.NumLayers; l++)
            for (int d = 0; d < c.Directions; d++)
            {
                DStates[l, d] = ws.Own(capacity * c.HiddenSize);
                DFinal[l, d] = ws.Own(bh);
            }
            long outputRows = c.ManyToOne ? ws.Batch : capacity;
            DHeadOutput = c.HasHead ? ws.Own(outputRows * c.OutputSize) : null;
            DhA = ws.Own(bh);
            DInput = ws.Own(capacity * c.InputSize);
            DInitialState = ws.Own(c.NumLayers * c.Directions * bh);
            Target = ws.Own(outputRows * c.OutputWidth);
            LossValues = ws.Own(outputRows * c.OutputWidth);
        }

        /// <summary>Per layer and direction [Rows, H]: dL/dh from above, overwritten in place by dL/dpre during BPTT.</summary>
        public DeviceBuffer[,] DStates { get; }

        /// <summary>Per layer and direction [B, H]: dL/d(final state) from outside (an encoder's decoder, many-to-one's head).</summary>
        public DeviceBuffer[,] DFinal { get; }

        /// <summary>dL/dy: [Rows, O] or [B, O]; null without a head (the loss then writes into the top layer's DStates).</summary>
        public DeviceBuffer? DHeadOutput { get; }

        /// <summary>[B, H] of working space for the recurrence's backward pass (RnnRecurrenceBackward's scratch).</summary>
        public DeviceBuffer DhA { get; }

        /// <summary>dL/dx: [Rows, I].</summary>
        public DeviceBuffer DInput { get; }

        /// <summary>dL/dh0: [L * D, B, H], sorted order.</summary>
        public DeviceBuffer DInitialState { get; }

        /// <summary>Targets, packed: [Rows, O] values or [Rows] class ids ([B, *] many-to-one).</summary>
        public DeviceBuffer Target { get; }

        /// <summary>Per-row or per-element losses, summed on the host in double.</summary>
        public DeviceBuffer LossValues { get; }
    }
}
