namespace RnnGpu.Accelerators;

/// <summary>
/// Batch-invariant passes (off by default): inside <see cref="Begin"/>'s scope, every row of a batched product and
/// recurrence that the pass runs, on any accelerator, is computed by the same operations in the same order whatever
/// the batch size, the row's position and the other rows' lengths, so a sequence batched with others gets bit for bit
/// what it gets alone (a server that coalesces requests needs that). It costs the small-batch fast paths: on the CPU,
/// the matrix-vector dot products and the multi-accumulator one-row recurrence kernel; on the ILGPU back end, the
/// persistent recurrence. The option belongs to the pass, not to the device: it flows with the caller's execution
/// context (across awaits, and into the tasks it starts), and other callers of the same accelerator at the same time
/// keep the default.
/// </summary>
public static class BatchInvariance
{
    private static readonly AsyncLocal<int> Depth = new();

    /// <summary>Whether the calling code is inside a batch-invariant pass.</summary>
    public static bool IsActive => Depth.Value > 0;

    /// <summary>
    /// Starts a batch-invariant pass; dispose the scope to end it, in the same method (an async method's change to
    /// the option does not reach its caller). Scopes nest. With <paramref name="invariant"/> false the scope changes
    /// nothing, so a caller can pass its own option through.
    /// </summary>
    public static Scope Begin(bool invariant = true) => new(invariant);

    public sealed class Scope : IDisposable
    {
        private readonly int _before;
        private bool _active;

        internal Scope(bool active)
        {
            _before = Depth.Value;
            _active = active;
            if (active) Depth.Value = _before + 1;
        }

        /// <summary>Ends the pass: the option is what it was before <see cref="Begin"/>; a second call does nothing.</summary>
        public void Dispose()
        {
            if (!_active) return;
            _active = false;
            Depth.Value = _before;
        }
    }
}
