using System.Collections.Concurrent;
using System.Diagnostics;
using System.Threading.Tasks.Sources;

namespace RnnGpu.Serving;

/// <summary>
/// One queued request and the awaitable its caller holds. Pooled, so a warm request allocates
/// nothing: the caller's ValueTask reads the result, then the object goes back to the pool.
/// </summary>
internal sealed class PendingRequest : IValueTaskSource<long>
{
    private const int Queued = 0, Taken = 1, Cancelled = 2;
    private static readonly ConcurrentQueue<PendingRequest> Pool = new();

    private ManualResetValueTaskSourceCore<long> _core = new() { RunContinuationsAsynchronously = true };
    private CancellationTokenRegistration _registration;
    private RequestQueue? _queue;
    private int _state;

    /// <summary>[Steps, I], the caller's.</summary>
    public ReadOnlyMemory<float> Input { get; private set; }
    public int Steps { get; private set; }

    /// <summary>[L * D, H], or empty for zeros.</summary>
    public ReadOnlyMemory<float> InitialState { get; private set; }

    /// <summary>[Steps, O], or [O] many-to-one.</summary>
    public Memory<float> Output { get; private set; }

    /// <summary>[L * D, H], or empty when the caller does not want it.</summary>
    public Memory<float> FinalState { get; private set; }

    /// <summary>The configuration the request was checked against; a batch run on other weights re-checks it.</summary>
    public Model.RnnConfig Config { get; private set; } = null!;

    public long EnqueuedAt { get; private set; }

    public static PendingRequest Rent(Model.RnnConfig config, ReadOnlyMemory<float> input, int steps, ReadOnlyMemory<float> initialState,
        Memory<float> output, Memory<float> finalState)
    {
        var r = Pool.TryDequeue(out var pooled) ? pooled : new PendingRequest();
        (r.Config, r.Input, r.Steps, r.InitialState, r.Output, r.FinalState) = (config, input, steps, initialState, output, finalState);
        r._state = Queued;
        r.EnqueuedAt = Stopwatch.GetTimestamp();
        return r;
    }

    public ValueTask<long> AsValueTask() => new(this, _core.Version);

    /// <summary>
    /// Lets <paramref name="token"/> withdraw the request while it waits in <paramref name="queue"/> (call
    /// after queueing it); once a batch has taken it, it runs to the end.
    /// </summary>
    public void WatchCancellation(RequestQueue queue, CancellationToken token)
    {
        if (!token.CanBeCanceled) return;
        _queue = queue;
        _registration = token.UnsafeRegister(static (state, t) => ((PendingRequest)state!).Cancel(t), this);
    }

    /// <summary>The executor claims the request; false when its caller already cancelled it.</summary>
    public bool TryTake() => Interlocked.CompareExchange(ref _state, Taken, Queued) == Queued;

    private void Cancel(CancellationToken token)
    {
        if (Interlocked.CompareExchange(ref _state, Cancelled, Queued) != Queued) return;
        _queue!.Forget();
        _core.SetException(new OperationCanceledException(token));
    }

    public void Succeed(long version) => _core.SetResult(version);

    public void Fail(Exception error) => _core.SetException(error);

    public long GetResult(short token)
    {
        try
        {
            return _core.GetResult(token);
        }
        finally
        {
            Recycle();
        }
    }

    public ValueTaskSourceStatus GetStatus(short token) => _core.GetStatus(token);

    public void OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _core.OnCompleted(continuation, state, token, flags);

    private void Recycle()
    {
        _registration.Dispose();
        _registration = default;
        _queue = null;
        (Input, InitialState, Output, FinalState, Config) = (default, default, default, default, null!);
        _core.Reset();
        // A cancelled request may still sit in the queue, which drops it when reached: reusing it before
        // then would let the queue hand it out twice. The collector takes it instead.
        if (_state != Cancelled) Pool.Enqueue(this);
    }
}
