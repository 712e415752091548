using System.Diagnostics;
using System.Runtime.CompilerServices;

namespace RnnGpu.Accelerators.Cpu;

/// <summary>
/// Waiting for a flag another core sets within microseconds: a pause between looks (Thread.SpinWait(1), about 40 ns
/// here), and after 50 µs a yield per look, so that a thread the OS has put on this core (the one being waited for,
/// perhaps) can run. The clock (30 ns a read in this VM) is first read after 64 looks, so a short wait reads it
/// never and <see cref="Waited"/> tells only long waits apart: it counts from that first read.
/// </summary>
internal struct TeamSpin
{
    private const int LooksBeforeClock = 64;
    private static readonly long YieldAfter = Stopwatch.Frequency / 20000;

    private long _start;
    private int _looks;
    private bool _yielding;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Once()
    {
        if (_yielding)
        {
            Thread.Yield();
            return;
        }
        Thread.SpinWait(1);
        if ((++_looks & (LooksBeforeClock - 1)) == 0) Tick();
    }

    /// <summary>Ticks waited since the clock was first read (0 for a wait of under 64 looks, about 2.5 µs).</summary>
    public readonly long Waited => _start == 0 ? 0 : Stopwatch.GetTimestamp() - _start;

    private void Tick()
    {
        long now = Stopwatch.GetTimestamp();
        if (_start == 0) _start = now;
        else if (now - _start > YieldAfter) _yielding = true;
    }
}
