using RnnGpu.Accelerators;

namespace RnnGpu.Model;

/// <summary>
/// Step-at-a-time inference for one or more live streams (a user, a sensor): the state of every layer
/// stays on the accelerator between calls, and each <see cref="Step"/> advances it by one time step.
/// Stepping through a sequence gives what <see cref="RnnModel.Forward"/> gives for the whole of it. All
/// buffers and parameter slices are made here, so a step allocates nothing. Reads the model's current
/// parameters at every step. Not thread-safe: one stream per caller at a time. The state is every layer's h and, for an
/// LSTM, its c (<see cref="StateLength"/>).
/// </summary>
public sealed class RnnStream : IDisposable
{
    private readonly Accelerator _acc;
    private readonly RnnConfig _config;
    private readonly DeviceBuffer _input;       // [B, I]
    private readonly DeviceBuffer[] _states;    // per layer, two [B, S] halves: the current h and the next
    private readonly DeviceBuffer[]? _cells;    // an LSTM's, per layer, two [B, H] halves: the current c and the next
    private readonly int[] _current;            // per layer, which half holds the current state
    private readonly DeviceBuffer? _gates;      // a gated cell's [B, G * H] step projection
    private readonly DeviceBuffer? _extra;      // [B, H]: an LSTM's o ⊙ tanh(c) before its projection, a GRU's W_hn h + b_hn
    private readonly DeviceBuffer? _scratch;    // a GRU's [B, 3H] recurrent projection
    private readonly DeviceBuffer? _head;       // [B, O]
    private readonly DeviceBuffer? _inputBias;  // [G * H]: b_ih + b_hh of the layer stepping (Elman and LSTM), as a pass sums them
    private readonly Slice[] _wIh, _wHh, _bIh, _bHh, _wHr;
    private readonly Slice _headWeight, _headBias;
    private readonly QuantizedMatrix?[] _qIh, _qHh, _qHr;   // per layer, when the model's weights are quantized
    private readonly QuantizedMatrix? _qHead;

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
        long bs = (long)batch * config.StateSize, bh = (long)batch * config.HiddenSize;
        _input = _acc.Allocate((long)batch * config.InputSize);
        _states = new DeviceBuffer[layers];
        _cells = config.HasCellState ? new DeviceBuffer[layers] : null;
        _current = new int[layers];
        (_wIh, _wHh, _bIh, _bHh, _wHr) = (new Slice[layers], new Slice[layers], new Slice[layers], new Slice[layers], new Slice[layers]);
        (_qIh, _qHh, _qHr) = (new QuantizedMatrix?[layers], new QuantizedMatrix?[layers], new QuantizedMatrix?[layers]);
        for (int l = 0; l < layers; l++)
        {
            _states[l] = _acc.Allocate(2 * bs);
            if (_cells is not null) _cells[l] = _acc.Allocate(2 * bh);
            _wIh[l] = model.Parameter(ParameterLayout.WeightIh(l));
            _wHh[l] = model.Parameter(ParameterLayout.WeightHh(l));
            _bIh[l] = model.Parameter(ParameterLayout.BiasIh(l));
            _bHh[l] = model.Parameter(ParameterLayout.BiasHh(l));
            if (config.ProjSize > 0) _wHr[l] = model.Parameter(ParameterLayout.WeightHr(l));
            _qIh[l] = model.QuantizedWeight(ParameterLayout.WeightIh(l));
            _qHh[l] = model.QuantizedWeight(ParameterLayout.WeightHh(l));
            if (config.ProjSize > 0) _qHr[l] = model.QuantizedWeight(ParameterLayout.WeightHr(l));
        }
        if (config.Cell != CellKind.Gru) _inputBias = _acc.Allocate(config.GateWidth);
        if (config.Cell != CellKind.Rnn)
        {
            _gates = _acc.Allocate((long)batch * config.GateWidth);
            _extra = _acc.Allocate(bh);
            if (config.Cell == CellKind.Gru) _scratch = _acc.Allocate((long)batch * config.GateWidth);
        }
        if (config.HasHead)
        {
            _head = _acc.Allocate((long)batch * config.OutputSize);
            _headWeight = model.Parameter(ParameterLayout.HeadWeight);
            _headBias = model.Parameter(ParameterLayout.HeadBias);
            _qHead = model.QuantizedWeight(ParameterLayout.HeadWeight);
        }
        Reset();
    }

    /// <summary>Streams advanced together: the rows of every input, output and state.</summary>
    public int Batch { get; }

    /// <summary>
    /// Floats of <see cref="GetState"/> and <see cref="SetState"/>: h [L, B, S], then for an LSTM c [L, B, H] (S: the
    /// projection's size, or H).
    /// </summary>
    public int StateLength => _config.NumLayers * Batch * (_config.StateSize + (_cells is null ? 0 : _config.HiddenSize));

    /// <summary>Sets every state to zeros, as at the start of a sequence.</summary>
    public void Reset()
    {
        for (int l = 0; l < _states.Length; l++)
        {
            _acc.Fill(_states[l].All, 0f);
            if (_cells is not null) _acc.Fill(_cells[l].All, 0f);
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
        int b = Batch, size = _config.StateSize;
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
            StepLayer(l, x, width);
            _current[l] = 1 - _current[l];
            x = Half(l, _current[l]);
            width = size;
        }
        if (_head is null)
        {
            _acc.CopyOut(x, output);
            return;
        }
        int o = _config.OutputSize;
        var head = new GemmSpec(false, true, b, o, size, 1f, 0f, size, size, o);
        if (_qHead is not null) _acc.Gemm(head, x, _qHead, 0, _head.All, _headBias);
        else _acc.Gemm(head, x, _headWeight, _head.All, _headBias);
        _acc.CopyOut(_head.All, output);
    }

    /// <summary>
    /// Layer l's step from its input x [B, width] into the next half of its state. Elman: h = act(x W_ih^T + b_ih + b_hh +
    /// hPrev W_hh^T) in one call. LSTM and GRU: the input projection [B, G * H], then the cell's recurrence over one step.
    /// </summary>
    private void StepLayer(int l, Slice x, int width)
    {
        int b = Batch, hidden = _config.HiddenSize, gates = _config.GateWidth, current = _current[l];
        Slice hPrev = Half(l, current), h = Half(l, 1 - current);
        ReadOnlySpan<int> oneStep = [b];
        if (_qIh[l] is not null)
        {
            StepQuantized(l, x, width, hPrev, h, oneStep);
            return;
        }
        switch (_config.Cell)
        {
            case CellKind.Rnn when !BatchInvariance.IsActive:
                // The fused step (the CPU's one-pass kernel) adds b_ih and b_hh apart: fastest, not the pass's bits.
                _acc.RnnInputStepForward(_config.Nonlinearity, b, hidden, width, x, _wIh[l], _bIh[l], _bHh[l], hPrev, _wHh[l], h);
                return;
            case CellKind.Rnn:
                // The pass's arithmetic, so that a batch-invariant stream gives the whole sequence's bits.
                _acc.Gemm(new GemmSpec(false, true, b, gates, width, 1f, 0f, width, width, gates), x, _wIh[l], h, InputBias(l));
                _acc.RnnRecurrenceForward(_config.Nonlinearity, oneStep, hidden, hPrev, _wHh[l], h);
                return;
            case CellKind.Lstm:
                _acc.Gemm(new GemmSpec(false, true, b, gates, width, 1f, 0f, width, width, gates), x, _wIh[l], _gates!.All, InputBias(l));
                _acc.LstmRecurrenceForward(oneStep, hidden, _config.ProjSize, hPrev, CellHalf(l, current), _wHh[l], _wHr[l], _gates.All,
                    CellHalf(l, 1 - current), _config.ProjSize > 0 ? _extra!.All : default, h);
                return;
            default:
                _acc.Gemm(new GemmSpec(false, true, b, gates, width, 1f, 0f, width, width, gates), x, _wIh[l], _gates!.All, _bIh[l]);
                _acc.GruRecurrenceForward(oneStep, hidden, hPrev, _wHh[l], _bHh[l], _gates.All, _extra!.All, h, _scratch!.All);
                return;
        }
    }

    /// <summary>
    /// <see cref="StepLayer"/> with quantized weights: the input projection's product with quantized W_ih (with b_ih + b_hh,
    /// b_ih only for a GRU), then the cell's quantized recurrence over one step.
    /// </summary>
    private void StepQuantized(int l, Slice x, int width, Slice hPrev, Slice h, ReadOnlySpan<int> oneStep)
    {
        int b = Batch, hidden = _config.HiddenSize, gates = _config.GateWidth, current = _current[l];
        var spec = new GemmSpec(false, true, b, gates, width, 1f, 0f, width, width, gates);
        switch (_config.Cell)
        {
            case CellKind.Rnn:
                // The recurrence reads the pre-activations from h and makes h there in place.
                _acc.Gemm(spec, x, _qIh[l]!, 0, h, InputBias(l));
                _acc.RnnRecurrenceForward(_config.Nonlinearity, oneStep, hidden, hPrev, _qHh[l]!, h);
                return;
            case CellKind.Lstm:
                _acc.Gemm(spec, x, _qIh[l]!, 0, _gates!.All, InputBias(l));
                _acc.LstmRecurrenceForward(oneStep, hidden, _config.ProjSize, hPrev, CellHalf(l, current), _qHh[l]!, _qHr[l], _gates.All,
                    CellHalf(l, 1 - current), _config.ProjSize > 0 ? _extra!.All : default, h);
                return;
            default:
                _acc.Gemm(spec, x, _qIh[l]!, 0, _gates!.All, _bIh[l]);
                _acc.GruRecurrenceForward(oneStep, hidden, hPrev, _qHh[l]!, _bHh[l], _gates.All, _extra!.All, h, _scratch!.All);
                return;
        }
    }

    /// <summary>b_ih + b_hh of layer l [G * H], summed as a pass sums them (read each step: the parameters may have changed).</summary>
    private Slice InputBias(int l)
    {
        var bias = _inputBias!.All;
        _acc.Copy(_bIh[l], bias);
        _acc.AddBias(1, _config.GateWidth, _bHh[l], bias);
        return bias;
    }

    /// <summary>Copies the state of every layer out (h [L, B, S], then an LSTM's c [L, B, H]), to save a stream or move it elsewhere.</summary>
    public void GetState(Span<float> state)
    {
        CheckStateLength(state.Length);
        int bs = Batch * _config.StateSize, bh = Batch * _config.HiddenSize, layers = _states.Length;
        for (int l = 0; l < layers; l++)
        {
            _acc.CopyOut(Half(l, _current[l]), state.Slice(l * bs, bs));
            if (_cells is not null) _acc.CopyOut(CellHalf(l, _current[l]), state.Slice(layers * bs + l * bh, bh));
        }
    }

    /// <summary>Replaces the state of every layer (h [L, B, S], then an LSTM's c [L, B, H]) with a saved one.</summary>
    public void SetState(ReadOnlySpan<float> state)
    {
        CheckStateLength(state.Length);
        CheckFinite(state, "stream state");
        int bs = Batch * _config.StateSize, bh = Batch * _config.HiddenSize, layers = _states.Length;
        for (int l = 0; l < layers; l++)
        {
            _acc.CopyIn(state.Slice(l * bs, bs), Half(l, _current[l]));
            if (_cells is not null) _acc.CopyIn(state.Slice(layers * bs + l * bh, bh), CellHalf(l, _current[l]));
        }
    }

    private Slice Half(int layer, int half)
    {
        long bs = (long)Batch * _config.StateSize;
        return _states[layer].Slice(half * bs, bs);
    }

    private Slice CellHalf(int layer, int half)
    {
        long bh = (long)Batch * _config.HiddenSize;
        return _cells![layer].Slice(half * bh, bh);
    }

    private void CheckStateLength(int length)
    {
        if (length != StateLength)
            throw new ShapeException(_cells is null
                ? $"stream state has {length} values, expected layers {_config.NumLayers} x batch {Batch} x hidden {_config.StateSize}"
                : $"stream state has {length} values, expected h (layers {_config.NumLayers} x batch {Batch} x {_config.StateSize}) then c (layers {_config.NumLayers} x batch {Batch} x hidden {_config.HiddenSize})");
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
        foreach (var c in _cells ?? []) c.Dispose();
        _gates?.Dispose();
        _extra?.Dispose();
        _scratch?.Dispose();
        _head?.Dispose();
        _inputBias?.Dispose();
    }
}
