namespace RnnGpu.Serving;

/// <summary>How a model is served: bound from the "RnnServing" configuration section or set in code.</summary>
public sealed class RnnServingOptions
{
    /// <summary>The safetensors checkpoint to serve (<see cref="RnnGpu.IO.Checkpoint"/>); reloads read it again.</summary>
    public string CheckpointPath { get; set; } = "";

    /// <summary>"cpu", "opencl", "cuda", "ilgpu-cpu" or "auto" (<see cref="RnnGpu.Accelerators.Backends.Open"/>).</summary>
    public string Backend { get; set; } = "cpu";

    /// <summary>
    /// The weights to serve with: "" (as the checkpoint stores them), "fp32", "int8" or "bf16" (a float32 checkpoint quantizes
    /// at load, <see cref="RnnGpu.Model.RnnModel.Quantize"/>; a quantized one serves only as what it stores).
    /// </summary>
    public string Weights { get; set; } = "";

    /// <summary><see cref="Weights"/> parsed: null for as stored.</summary>
    internal RnnGpu.Accelerators.QuantizedWeights? WeightsKind =>
        string.IsNullOrEmpty(Weights) ? null : RnnGpu.Accelerators.QuantizedWeightsNames.Parse(Weights);

    /// <summary>Most requests coalesced into one forward pass; 1 turns dynamic batching off.</summary>
    public int MaxBatch { get; set; } = 16;

    /// <summary>How long a batch that is not full waits for more requests after its first, in whole milliseconds (less is no wait).</summary>
    public TimeSpan MaxWait { get; set; } = TimeSpan.FromMilliseconds(1);

    /// <summary>Most time steps in one request.</summary>
    public int MaxSequenceLength { get; set; } = 1024;

    /// <summary>Most requests waiting for an executor; past it a request is refused at once (<see cref="ServingOverloadedException"/>).</summary>
    public int MaxQueuedRequests { get; set; } = 4096;

    /// <summary>Most live streams (<see cref="RnnStreams"/>).</summary>
    public int MaxStreams { get; set; } = 10_000;

    /// <summary>
    /// CPU threads the service computes on: 0 means the cores this process may use (its affinity mask and CPU quota
    /// included). Executors default to one per thread, each running its batches alone; a single executor runs each
    /// batch on all of them.
    /// </summary>
    public int Threads { get; set; }

    /// <summary>Threads that run batches: 0 means one per CPU thread (<see cref="Threads"/>). A GPU back end always has one, since one device queue serves it.</summary>
    public int Executors { get; set; }

    internal void Validate()
    {
        if (string.IsNullOrWhiteSpace(CheckpointPath)) throw new ShapeException("RnnServing:CheckpointPath is not set: name the checkpoint to serve");
        if (MaxBatch < 1) throw new ShapeException($"RnnServing:MaxBatch {MaxBatch} must be at least 1");
        if (!string.IsNullOrEmpty(Weights) && Weights is not ("fp32" or "int8" or "bf16"))
            throw new ShapeException($"RnnServing:Weights '{Weights}' is not one of fp32, int8, bf16 (or empty: as the checkpoint stores them)");
        if (MaxWait < TimeSpan.Zero || MaxWait > TimeSpan.FromSeconds(1)) throw new ShapeException($"RnnServing:MaxWait {MaxWait} must be within [0, 1 s]");
        if (MaxSequenceLength < 1) throw new ShapeException($"RnnServing:MaxSequenceLength {MaxSequenceLength} must be at least 1");
        if (MaxQueuedRequests < 1) throw new ShapeException($"RnnServing:MaxQueuedRequests {MaxQueuedRequests} must be at least 1");
        if (MaxStreams < 0) throw new ShapeException($"RnnServing:MaxStreams {MaxStreams} must not be negative");
        if (Threads is < 0 or > Accelerators.Cpu.CpuAccelerator.MaxThreads)
            throw new ShapeException($"RnnServing:Threads {Threads} must be 0 (the cores this process may use) or 1 to {Accelerators.Cpu.CpuAccelerator.MaxThreads}");
        if (Executors < 0) throw new ShapeException($"RnnServing:Executors {Executors} must not be negative");
    }
}
