using RnnGpu.Accelerators;

namespace RnnGpu.Model;

/// <summary>
/// Step-at-a-time inference for one or more live streams (a user, a sensor): the state of every layer
/// stays on the accelerator between calls, and each <see cref="Step"/> advances it by one time step.
/// Stepping through a sequence gives what <see cref="RnnModel.Forward"/> gives for the whole of it. All
/// buffers and parameter slices are made here, so a step allocates nothing. Reads the model's current
/// parameters at every step. Not thread-safe: one stream per caller at a time.
/// </summary>
public sealed class RnnStream : IDisposable
{
    private readonly Accelerator _acc;
    private readonly RnnConfig _config;
    private readonly DeviceBuffer _input;       // [B, I]
    private readonly DeviceBuffer[] _states;    // per layer, two [B, H] halves: the current state and the next
    private readonly int[] _current;            // per layer, which half holds the current state
    private readonly DeviceBuffer? _head;       // [B, O]
    private readonly Slice[] _wIh, _wHh, _bIh, _bHh;
    private readonly Slice _headWeight, _headBias;

    internal RnnStream(RnnModel model, int batch)
    {
        var config = model.Config;
        if (config.Bidirectional)
            throw new ShapeException("a bidirectional model needs the whole sequence: streaming takes a unidirectional model");
        if (batch < 1) throw new ShapeException($"stream batch {batch} must be at least 1");
        _acc = model.Accelerator;
        _config = config;
        Batch = batch;
        int layers = config.NumLayers;
        long bh = (long)batch * config.HiddenSize;
        _input = _acc.Allocate((long)batch * config.InputSize);
        _states = new DeviceBuffer[layers];
        _current = new int[layers];
        (_wIh, _wHh, _bIh, _bHh) = (new Slice[layers], new Slice[layers], new Slice[layers], new Slice[layers]);
        for (int l = 0; l < layers; l++)
        {
            _states[l] = _acc.Allocate(2 * bh);
            _wIh[l] = model.Parameter(ParameterLayout.WeightIh(l));
            _wHh[l] = model.Parameter(ParameterLayout.WeightHh(l));
            _bIh[l] = model.Parameter(ParameterLayout.BiasIh(l));
            _bHh[l] = model.Parameter(ParameterLayout.BiasHh(l));
        }
        if (config.HasHead)
        {
            _head = _acc.Allocate((long)batch * config.OutputSize);
            _headWeight = model.Parameter(ParameterLayout.HeadWeight);
            _headBias = model.Parameter(ParameterLayout.HeadBias);
        }
        Reset();
    }

    /// <summary>Streams advanced together: the rows of every input, output and state.</summary>
    public int Batch { get; }

    /// <summary>[L, B, H]: the shape of <see cref="GetState"/> and <see cref="SetState"/>.</summary>
    public int StateLength => _config.NumLayers * Batch * _config.HiddenSize;

    /// <summary>Sets every state to zeros, as at the start of a sequence.</summary>
    public void Reset()
    {
        for (int l = 0; l < _states.Length; l++)
        {
            _acc.Fill(_states[l].All, 0f);
            _current[l] = 0;
        }
    }

    /// <summary>
    /// One time step: input [B, I] (row-major) in, output [B, O] out: the head's raw values, or the top
    /// layer's new state without a head. A many-to-one model's head reads the state after this step, as
    /// if the sequences ended here.
    /// </summary>
    public void Step(ReadOnlySpan<float> input, Span<float> output)
    {
        int b = Batch, hidden = _config.HiddenSize;
        long bh = (long)b * hidden;
        if (input.Length != (long)b * _config.InputSize)
            throw new ShapeException($"stream input has {input.Length} values, expected batch {b} x input {_config.InputSize}");
        if (output.Length != (long)b * _config.OutputWidth)
            throw new ShapeException($"stream output has room for {output.Length} values, expected batch {b} x output {_config.OutputWidth}");
        CheckFinite(input, "stream input");
        _acc.CopyIn(input, _input.All);
        Slice x = _input.All;
        int width = _config.InputSize;
        for (int l = 0; l < _states.Length; l++)
        {
            Slice hPrev = Half(l, _current[l]), h = Half(l, 1 - _current[l]);
            // h = act(x W_ih^T + b_ih + b_hh + hPrev W_hh^T): x [B, in], W_ih [H, in].
            _acc.RnnInputStepForward(_config.Nonlinearity, b, hidden, width, x, _wIh[l], _bIh[l], _bHh[l], hPrev, _wHh[l], h);
            _current[l] = 1 - _current[l];
            x = h;
            width = hidden;
        }
        if (_head is null)
        {
            _acc.CopyOut(x.Sub(0, bh), output);
            return;
        }
        int o = _config.OutputSize;
        _acc.Gemm(new GemmSpec(false, true, b, o, hidden, 1f, 0f, hidden, hidden, o), x, _headWeight, _head.All, _headBias);
        _acc.CopyOut(_head.All, output);
    }

    /// <summary>Copies the state of every layer out, [L, B, H], to save a stream or move it elsewhere.</summary>
    public void GetState(Span<float> state)
    {
        CheckStateLength(state.Length);
        long bh = (long)Batch * _config.HiddenSize;
        for (int l = 0; l < _states.Length; l++)
            _acc.CopyOut(Half(l, _current[l]), state.Slice((int)(l * bh), (int)bh));
    }

    /// <summary>Replaces the state of every layer, [L, B, H], with a saved one.</summary>
    public void SetState(ReadOnlySpan<float> state)
    {
        CheckStateLength(state.Length);
        CheckFinite(state, "stream state");
        long bh = (long)Batch * _config.HiddenSize;
        for (int l = 0; l < _states.Length; l++)
            _acc.CopyIn(state.Slice((int)(l * bh), (int)bh), Half(l, _current[l]));
    }

    private Slice Half(int layer, int half)
    {
        long bh = (long)Batch * _config.HiddenSize;
        return _states[layer].Slice(half * bh, bh);
    }

    private void CheckStateLength(int length)
    {
        if (length != StateLength)
            throw new ShapeException($"stream state has {length} values, expected layers {_config.NumLayers} x batch {Batch} x hidden {_config.HiddenSize}");
    }

    private static void CheckFinite(ReadOnlySpan<float> values, string what)
    {
        int bad = Finite.FirstNonFinite(values);
        if (bad >= 0) throw new ShapeException($"{what} holds a non-finite value ({values[bad]}) at flat index {bad}");
    }

    public void Dispose()
    {
        _input.Dispose();
        foreach (var s in _states) s.Dispose();
        _head?.Dispose();
    }
}
