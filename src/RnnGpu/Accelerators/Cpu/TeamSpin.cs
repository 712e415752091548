using System.Diagnostics;

namespace RnnGpu.Accelerators.Cpu;

/// <summary>
/// Waiting for a flag another core sets within microseconds: a pause between looks (Thread.SpinWait(1), about 40 ns
/// here; the clock costs 30 ns a read, so it is read every 64 looks), and after 50 µs a yield per look, so that a
/// thread the OS has put on this core (the one being waited for, perhaps) can run.
/// </summary>
internal struct TeamSpin
{
    private static readonly long YieldAfter = Stopwatch.Frequency / 20000;

    private long _start;
    private int _looks;
    private bool _yielding;

    public void Once()
    {
        if (_yielding)
        {
            Thread.Yield();
            return;
        }
        Thread.SpinWait(1);
        if ((++_looks & 63) != 0) return;
        long now = Stopwatch.GetTimestamp();
        if (_start == 0) _start = now;
        else if (now - _start > YieldAfter) _yielding = true;
    }
}
