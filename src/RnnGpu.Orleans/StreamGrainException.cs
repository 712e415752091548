namespace RnnGpu.Orleans;

/// <summary>What went wrong with a call on a stream grain: the front ends map each onto a problem code and a status.</summary>
public enum StreamProblem
{
    /// <summary>No such stream: never started, or deleted.</summary>
    NotFound,
    /// <summary>The input or state has the wrong shape or a non-finite value.</summary>
    BadInput,
    /// <summary>The stored state is of a model of another shape (the served model was swapped): restart the stream.</summary>
    StateMismatch,
    /// <summary>The stored state cannot be read or is inconsistent: delete or restart the stream.</summary>
    CorruptState,
    /// <summary>A step key was used again with another input.</summary>
    StepKeyReused,
    /// <summary>The silo is at a limit (queued requests): try again later.</summary>
    Overloaded,
    /// <summary>The state could not be stored: the step was not taken.</summary>
    StorageFailed,
}

/// <summary>An error of a stream grain, carried to the caller by Orleans with its <see cref="StreamProblem"/>.</summary>
[GenerateSerializer]
public sealed class StreamGrainException : Exception
{
    public StreamGrainException(StreamProblem problem, string message) : base(message) => Problem = problem;

    [Id(0)]
    public StreamProblem Problem { get; private set; }
}
