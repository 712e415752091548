namespace RnnGpu.LoadTest;

/// <summary>C concurrent clients sharing a fixed number of requests: each takes the next request number until none is left.</summary>
public static class Clients
{
    public static Task RunAsync(int clients, int requests, Func<int, Task> send, CancellationToken ct)
    {
        int next = -1;
        return Task.WhenAll(Enumerable.Range(0, clients).Select(_ => Task.Run(async () =>
        {
            for (int n; (n = Interlocked.Increment(ref next)) < requests;) await send(n);
        }, ct)));
    }
}
