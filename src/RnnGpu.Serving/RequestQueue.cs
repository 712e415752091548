using System.Diagnostics;

namespace RnnGpu.Serving;

/// <summary>
/// Requests waiting for an executor, first come first served. An executor takes the oldest request,
/// then keeps taking until its batch is full or the batch's wait is over. Executors are dedicated
/// threads, so waiting here blocks a thread, never the caller.
/// </summary>
internal sealed class RequestQueue(int capacity)
{
    private readonly Queue<PendingRequest> _waiting = new(Math.Min(capacity, 1024));
    private int _live;      // queued and not cancelled
    private bool _closed;

    public int Count => Volatile.Read(ref _live);

    /// <summary>Queues a request, or refuses it when <paramref name="capacity"/> requests already wait.</summary>
    public void Add(PendingRequest request)
    {
        lock (_waiting)
        {
            if (_closed) throw new ObjectDisposedException(nameof(RnnInference), "the inference service has shut down");
            if (_live >= capacity) throw new ServingOverloadedException($"{capacity} requests are already waiting: try again later");
            _waiting.Enqueue(request);
            Interlocked.Increment(ref _live);
            Monitor.Pulse(_waiting);
        }
    }

    /// <summary>A cancelled request no longer counts against the capacity; it is dropped when reached.</summary>
    public void Forget() => Interlocked.Decrement(ref _live);

    /// <summary>
    /// Fills <paramref name="batch"/> with up to its length in requests: blocks for the first, then waits at
    /// most <paramref name="maxWait"/> for the rest. Returns 0 once the queue is closed and empty.
    /// </summary>
    public int TakeBatch(PendingRequest[] batch, TimeSpan maxWait)
    {
        int n = 0;
        long deadline = 0;
        lock (_waiting)
        {
            while (n < batch.Length)
            {
                if (TryTakeOne(out var request))
                {
                    if (n == 0) deadline = Stopwatch.GetTimestamp() + (long)(maxWait.TotalSeconds * Stopwatch.Frequency);
                    batch[n++] = request;
                    continue;
                }
                if (n == 0)
                {
                    if (_closed) return 0;
                    Monitor.Wait(_waiting);
                    continue;
                }
                // Whole milliseconds: the lock waits no finer, and spinning out a remainder would take a core the batch needs.
                int left = (int)((deadline - Stopwatch.GetTimestamp()) * 1000 / Stopwatch.Frequency);
                if (left <= 0 || _closed) break;
                Monitor.Wait(_waiting, left);
            }
        }
        return n;
    }

    private bool TryTakeOne(out PendingRequest request)
    {
        while (_waiting.TryDequeue(out request!))
            if (request.TryTake())
            {
                Interlocked.Decrement(ref _live);
                return true;
            }
        return false;
    }

    /// <summary>Wakes every executor to finish: queued requests still run, new ones are refused.</summary>
    public void Close()
    {
        lock (_waiting)
        {
            _closed = true;
            Monitor.PulseAll(_waiting);
        }
    }
}
