using RnnGpu.Accelerators;

namespace RnnGpu.Model;

/// <summary>
/// Device buffers for one (batch, time) shape, allocated once and reused across calls.
/// Everything is time-major so that step t is one contiguous [B, *] slice.
/// The forward buffers always exist; the backward ones are made on the first training call.
/// </summary>
internal sealed class RnnWorkspace : IDisposable
{
    private readonly Accelerator _acc;
    private readonly RnnConfig _config;

    public RnnWorkspace(Accelerator acc, RnnConfig config, int batch, int time)
    {
        _acc = acc;
        _config = config;
        Batch = batch;
        Time = time;
        long tb = (long)time * batch, bh = (long)batch * config.HiddenSize;
        Input = acc.Allocate(tb * config.InputSize);
        States = new DeviceBuffer[config.NumLayers];
        for (int l = 0; l < States.Length; l++) States[l] = acc.Allocate((time + 1) * bh);
        HeadOutput = config.HasHead ? acc.Allocate(tb * config.OutputSize) : null;
    }

    public int Batch { get; }
    public int Time { get; }

    /// <summary>x: [T, B, I].</summary>
    public DeviceBuffer Input { get; }

    /// <summary>Per layer [T + 1, B, H]: slot 0 is the initial state h0, slot t + 1 is h_t.</summary>
    public DeviceBuffer[] States { get; }

    /// <summary>y: [T, B, O], the head's raw outputs; null without a head.</summary>
    public DeviceBuffer? HeadOutput { get; }

    public BackwardBuffers Backward => _backward ??= new BackwardBuffers(_acc, _config, Batch, Time);
    private BackwardBuffers? _backward;

    public long StepSize => (long)Batch * _config.HiddenSize;

    /// <summary>h_1 .. h_T of a layer: [T, B, H].</summary>
    public Slice Outputs(int layer) => States[layer].Slice(StepSize, Time * StepSize);

    /// <summary>h_0 .. h_{T-1} of a layer, the states each step started from: [T, B, H].</summary>
    public Slice PreviousStates(int layer) => States[layer].Slice(0, Time * StepSize);

    public Slice State(int layer, int slot) => States[layer].Slice(slot * StepSize, StepSize);

    /// <summary>The model's output: the head's, or the top layer's hidden states. [T, B, OutputWidth].</summary>
    public Slice ModelOutput => HeadOutput?.All ?? Outputs(_config.NumLayers - 1);

    public void Dispose()
    {
        Input.Dispose();
        foreach (var s in States) s.Dispose();
        HeadOutput?.Dispose();
        _backward?.Dispose();
    }

    /// <summary>Buffers of BPTT and of the loss.</summary>
    internal sealed class BackwardBuffers : IDisposable
    {
        public BackwardBuffers(Accelerator acc, RnnConfig config, int batch, int time)
        {
            long tb = (long)time * batch, bh = (long)batch * config.HiddenSize;
            int width = config.OutputWidth;
            DStates = new DeviceBuffer[config.NumLayers];
            for (int l = 0; l < DStates.Length; l++) DStates[l] = acc.Allocate(time * bh);
            DHeadOutput = config.HasHead ? acc.Allocate(tb * width) : null;
            DhA = acc.Allocate(bh);
            DhB = acc.Allocate(bh);
            DInput = acc.Allocate(tb * config.InputSize);
            DInitialState = acc.Allocate(config.NumLayers * bh);
            Target = acc.Allocate(tb * width);
            LossValues = acc.Allocate(tb * width);
        }

        /// <summary>Per layer [T, B, H]: dL/dh_t from above, overwritten in place by dL/dpre_t during BPTT.</summary>
        public DeviceBuffer[] DStates { get; }

        /// <summary>dL/dy: [T, B, O]; null without a head (the loss then writes into the top layer's DStates).</summary>
        public DeviceBuffer? DHeadOutput { get; }

        /// <summary>Ping-pong [B, H] buffers for the gradient carried from step t to t - 1.</summary>
        public DeviceBuffer DhA { get; }
        public DeviceBuffer DhB { get; }

        /// <summary>dL/dx: [T, B, I].</summary>
        public DeviceBuffer DInput { get; }

        /// <summary>dL/dh0: [L, B, H].</summary>
        public DeviceBuffer DInitialState { get; }

        /// <summary>Targets, time-major: [T, B, O] values, or [T, B] class ids for cross-entropy.</summary>
        public DeviceBuffer Target { get; }

        /// <summary>Per-row or per-element losses, summed on the host in double.</summary>
        public DeviceBuffer LossValues { get; }

        public void Dispose()
        {
            foreach (var d in DStates) d.Dispose();
            DHeadOutput?.Dispose();
            DhA.Dispose();
            DhB.Dispose();
            DInput.Dispose();
            DInitialState.Dispose();
            Target.Dispose();
            LossValues.Dispose();
        }
    }
}
