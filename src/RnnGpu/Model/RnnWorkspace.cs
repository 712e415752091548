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
    private DeviceBuffer?[,]? _previous, _dropped, _masks, _gates, _cellStates, _finalCells, _extra;
    private DeviceBuffer? _stepScratch;
    private BackwardBuffers? _backward;

    public RnnWorkspace(Accelerator acc, RnnConfig config, int batch, int time)
    {
        _acc = acc;
        _config = config;
        Batch = batch;
        Time = time;
        Layout = StepLayout.Full(batch, time);
        long capacity = (long)time * batch, s = config.StateSize;
        Input = Own(capacity * config.InputSize);
        States = new DeviceBuffer[config.NumLayers, config.Directions];
        Final = new DeviceBuffer[config.NumLayers, config.Directions];
        for (int l = 0; l < config.NumLayers; l++)
        for (int d = 0; d < config.Directions; d++)
        {
            States[l, d] = Own((capacity + batch) * s);
            Final[l, d] = Own(batch * s);
        }
        HeadOutput = config.HasHead ? Own((config.ManyToOne ? batch : capacity) * config.OutputSize) : null;
        BiasSums = Own((long)config.NumLayers * config.Directions * config.GateWidth);
    }

    /// <summary>[L * D, G * H]: the bias the input projection adds, b_ih + b_hh of each layer and direction (b_ih alone for a GRU).</summary>
    public DeviceBuffer BiasSums { get; }

    public Slice BiasSum(int layer, int direction) =>
        BiasSums.Slice((long)(layer * _config.Directions + direction) * _config.GateWidth, _config.GateWidth);

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

    /// <summary>[B, S]: one layer and direction's h.</summary>
    public long StepSize => (long)Batch * _config.StateSize;

    /// <summary>[B, H]: one layer and direction's c (LSTM).</summary>
    public long CellStepSize => (long)Batch * _config.HiddenSize;

    /// <summary>x, packed: [Rows, I].</summary>
    public DeviceBuffer Input { get; }

    /// <summary>
    /// Per layer and direction, [Rows + B, S]: every step's state, and the initial state. The forward
    /// direction keeps h0 first and step t at row B + offset_t, so the state each step starts from is the
    /// block before it; the reverse direction keeps step t at row offset_t and h0 last, for the same reason.
    /// </summary>
    public DeviceBuffer[,] States { get; }

    /// <summary>Per layer and direction, [B, S]: each sequence's final state (sorted order).</summary>
    public DeviceBuffer[,] Final { get; }

    /// <summary>The head's raw outputs: [Rows, O], or [B, O] many-to-one; null without a head.</summary>
    public DeviceBuffer? HeadOutput { get; }

    /// <summary>h's width S; c's and the gates' H.</summary>
    private long S => _config.StateSize;
    private long H => _config.HiddenSize;
    private long Capacity => (long)Time * Batch;

    /// <summary>Row where step t's block starts in States[l, d] (and CellStates): the forward direction keeps the initial block first.</summary>
    private long StepRow(int direction, int t) => (direction == 0 ? Batch : 0) + Layout.Offsets[t];

    private long InitialRow(int direction) => direction == 0 ? 0 : Layout.Rows;

    /// <summary>Step t's states, the first <paramref name="rows"/> sequences: [rows, S].</summary>
    public Slice Step(int layer, int direction, int t, int rows) => States[layer, direction].Slice(StepRow(direction, t) * S, rows * S);

    /// <summary>The initial state rows [first, first + rows): [rows, S].</summary>
    public Slice Initial(int layer, int direction, int first, int rows) =>
        States[layer, direction].Slice((InitialRow(direction) + first) * S, rows * S);

    /// <summary>Every step's output of one direction, packed: [Rows, S].</summary>
    public Slice Outputs(int layer, int direction) => States[layer, direction].Slice(StepRow(direction, 0) * S, Layout.Rows * S);

    /// <summary>
    /// The state each row's step started from, packed like <see cref="Outputs"/>: [Rows, S]. Contiguous in
    /// States for a uniform layout; otherwise gathered into a buffer before the weight gradient.
    /// </summary>
    public Slice Previous(int layer, int direction)
    {
        if (Layout.Uniform)
            return direction == 0
                ? States[layer, direction].Slice(0, Layout.Rows * S)
                : States[layer, direction].Slice(Batch * S, Layout.Rows * S);
        return PreviousBuffer(layer, direction).Slice(0, Layout.Rows * S);
    }

    public DeviceBuffer PreviousBuffer(int layer, int direction) => Lazy(ref _previous, layer, direction, Capacity * S);

    /// <summary>What the layer above reads: the outputs, or with dropout in training their masked copy [Rows, S].</summary>
    public DeviceBuffer Dropped(int layer, int direction) => Lazy(ref _dropped, layer, direction, Capacity * S);

    /// <summary>The dropout mask of a layer's output, 0 or 1 / (1 - p): [Rows, S].</summary>
    public DeviceBuffer Mask(int layer, int direction) => Lazy(ref _masks, layer, direction, Capacity * S);

    /// <summary>A gated cell's gates of every step: [Rows, G * H], the input projection, then the activated gates.</summary>
    public Slice Gates(int layer, int direction) => Lazy(ref _gates, layer, direction, Capacity * _config.GateWidth).Slice(0, Layout.Rows * _config.GateWidth);

    /// <summary>
    /// An LSTM's c per layer and direction, [Rows + B, H], laid out as <see cref="States"/>: every step's and the initial one.
    /// </summary>
    public DeviceBuffer CellStates(int layer, int direction) => Lazy(ref _cellStates, layer, direction, (Capacity + Batch) * H);

    /// <summary>Step t's c, the first <paramref name="rows"/> sequences: [rows, H].</summary>
    public Slice CellStep(int layer, int direction, int t, int rows) => CellStates(layer, direction).Slice(StepRow(direction, t) * H, rows * H);

    /// <summary>The initial c rows [first, first + rows): [rows, H].</summary>
    public Slice InitialCell(int layer, int direction, int first, int rows) =>
        CellStates(layer, direction).Slice((InitialRow(direction) + first) * H, rows * H);

    /// <summary>Every step's c of one direction, packed: [Rows, H].</summary>
    public Slice CellOutputs(int layer, int direction) => CellStates(layer, direction).Slice(StepRow(direction, 0) * H, Layout.Rows * H);

    /// <summary>An LSTM's final c per layer and direction, [B, H] (sorted order).</summary>
    public DeviceBuffer FinalCell(int layer, int direction) => Lazy(ref _finalCells, layer, direction, Batch * H);

    /// <summary>
    /// A cell's second [Rows, H] of every step: an LSTM's o ⊙ tanh(c) before its projection, a GRU's W_hn h + b_hn.
    /// </summary>
    public Slice Extra(int layer, int direction) => Lazy(ref _extra, layer, direction, Capacity * H).Slice(0, Layout.Rows * H);

    /// <summary>[B, G * H] of working space for a step (a GRU's recurrent projection).</summary>
    public DeviceBuffer StepScratch => _stepScratch ??= Own(Batch * (long)_config.GateWidth);

    private DeviceBuffer Lazy(ref DeviceBuffer?[,]? table, int layer, int direction, long length)
    {
        table ??= new DeviceBuffer?[_config.NumLayers, _config.Directions];
        return table[layer, direction] ??= Own(length);
    }

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
        private readonly RnnWorkspace _ws;
        private DeviceBuffer?[,]? _dGates, _dGatesHidden, _dFinalCells;
        private DeviceBuffer? _dInitialCell;

        public BackwardBuffers(RnnWorkspace ws)
        {
            _ws = ws;
            var c = ws._config;
            long capacity = ws.Capacity;
            DStates = new DeviceBuffer[c.NumLayers, c.Directions];
            DFinal = new DeviceBuffer[c.NumLayers, c.Directions];
            for (int l = 0; l < c.NumLayers; l++)
            for (int d = 0; d < c.Directions; d++)
            {
                DStates[l, d] = ws.Own(capacity * c.StateSize);
                DFinal[l, d] = ws.Own(ws.StepSize);
            }
            long outputRows = c.ManyToOne ? ws.Batch : capacity;
            DHeadOutput = c.HasHead ? ws.Own(outputRows * c.OutputSize) : null;
            DhA = ws.Own(ws.CellStepSize);   // [B, H]: S is at most H
            DInput = ws.Own(capacity * c.InputSize);
            DInitialState = ws.Own(c.NumLayers * c.Directions * ws.StepSize);
            Target = ws.Own(outputRows * c.OutputWidth);
            LossValues = ws.Own(outputRows * c.OutputWidth);
        }

        /// <summary>Per layer and direction [Rows, S]: dL/dh from above; the Elman cell overwrites it in place with dL/dpre during BPTT, the gated cells with the whole dL/dh.</summary>
        public DeviceBuffer[,] DStates { get; }

        /// <summary>Per layer and direction [B, S]: dL/d(final state) from outside (an encoder's decoder, many-to-one's head).</summary>
        public DeviceBuffer[,] DFinal { get; }

        /// <summary>dL/dy: [Rows, O] or [B, O]; null without a head (the loss then writes into the top layer's DStates).</summary>
        public DeviceBuffer? DHeadOutput { get; }

        /// <summary>[B, H] of working space for the recurrence's backward pass.</summary>
        public DeviceBuffer DhA { get; }

        /// <summary>dL/dx: [Rows, I].</summary>
        public DeviceBuffer DInput { get; }

        /// <summary>dL/dh0: [L * D, B, S], sorted order.</summary>
        public DeviceBuffer DInitialState { get; }

        /// <summary>A gated cell's dL/d(input projection) per layer and direction: [Rows, G * H].</summary>
        public Slice DGates(int layer, int direction) =>
            _ws.Lazy(ref _dGates, layer, direction, _ws.Capacity * _ws._config.GateWidth).Slice(0, _ws.Layout.Rows * _ws._config.GateWidth);

        /// <summary>A GRU's dL/d(h W_hh^T + b_hh) per layer and direction: [Rows, 3H].</summary>
        public Slice DGatesHidden(int layer, int direction) =>
            _ws.Lazy(ref _dGatesHidden, layer, direction, _ws.Capacity * _ws._config.GateWidth).Slice(0, _ws.Layout.Rows * _ws._config.GateWidth);

        /// <summary>An LSTM's dL/d(final c) per layer and direction [B, H], from outside.</summary>
        public DeviceBuffer DFinalCell(int layer, int direction) => _ws.Lazy(ref _dFinalCells, layer, direction, _ws.CellStepSize);

        /// <summary>An LSTM's dL/dc0: [L * D, B, H], sorted order.</summary>
        public DeviceBuffer DInitialCell => _dInitialCell ??= _ws.Own(_ws._config.NumLayers * _ws._config.Directions * _ws.CellStepSize);

        /// <summary>Targets, packed: [Rows, O] values or [Rows] class ids ([B, *] many-to-one).</summary>
        public DeviceBuffer Target { get; }

        /// <summary>Per-row or per-element losses, summed on the host in double.</summary>
        public DeviceBuffer LossValues { get; }
    }
}
