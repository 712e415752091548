namespace RnnGpu.Orleans;

/// <summary>
/// One live stream of the served model (a user, a sensor), by its id: a grain that lives on one silo at a time and keeps
/// the stream's state in grain storage. Calls on one stream run one at a time, in order (a grain is single-threaded).
/// Every call that changes the state returns only after the new state is stored, so an acknowledged step is never lost.
/// Errors are <see cref="StreamGrainException"/>s with a <see cref="StreamProblem"/>.
/// </summary>
public interface IRnnStreamGrain : IGrainWithStringKey
{
    /// <summary>Starts (or restarts) the stream at zeros for the served model, as at the start of a sequence.</summary>
    Task<StreamSnapshot> Start();

    /// <summary>
    /// Advances the stream by <paramref name="steps"/> steps of input [steps, I]; returns those steps' outputs and the new
    /// state. A call with the <paramref name="stepKey"/> of the stream's last step (a client retrying after a timeout) does
    /// not advance it again: it returns that step's result, as stored.
    /// </summary>
    Task<StreamStep> Advance(float[] input, int steps, string? stepKey = null);

    /// <summary>The stream's state (h [L, S], then an LSTM's c [L, H]), its position and the model version that made it.</summary>
    Task<StreamSnapshot> GetState();

    /// <summary>Replaces the stream's state with a saved one (h [L, S], then an LSTM's c [L, H]), creating the stream if need be.</summary>
    Task<StreamSnapshot> SetState(float[] state);

    /// <summary>Forgets the stream and its stored state; false when there was none.</summary>
    Task<bool> Delete();
}
