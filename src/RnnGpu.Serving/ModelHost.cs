using Microsoft.Extensions.Logging;
using RnnGpu.Accelerators;
using RnnGpu.IO;

namespace RnnGpu.Serving;

/// <summary>
/// The generation being served, and hot swap: a new checkpoint is loaded and checked in full beside the
/// old one, then replaces it in one atomic step. A batch runs wholly on the generation it acquired, so no
/// request mixes weights; one that fails to load leaves the old generation serving.
/// </summary>
internal sealed partial class ModelHost : IDisposable
{
    private readonly Accelerator _accelerator;
    private readonly string _path;
    private readonly QuantizedWeights? _weights;
    private readonly int _executors;
    private readonly ILogger _log;
    private readonly SemaphoreSlim _loading = new(1, 1);
    private ModelGeneration _current;
    private long _versions;

    public ModelHost(Accelerator accelerator, string path, QuantizedWeights? weights, int executors, ILogger log)
    {
        (_accelerator, _path, _weights, _executors, _log) = (accelerator, path, weights, executors, log);
        _current = Load();
    }

    public ServedModelInfo Current => Volatile.Read(ref _current).Info;

    /// <summary>The current generation, with a use held for one batch: call <see cref="ModelGeneration.Release"/> after.</summary>
    public ModelGeneration Acquire()
    {
        while (true)
        {
            var generation = Volatile.Read(ref _current);
            if (generation.TryAcquire()) return generation;
        }
    }

    /// <summary>Reads the checkpoint again and swaps it in; on any error the old model keeps serving and the error is thrown.</summary>
    public async Task<ServedModelInfo> ReloadAsync(CancellationToken ct)
    {
        await _loading.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            ModelGeneration next;
            try
            {
                next = await Task.Run(Load, ct).ConfigureAwait(false);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                LogReloadFailed(_log, _path, e.Message);
                throw;
            }
            var old = Interlocked.Exchange(ref _current, next);
            old.Release();
            LogSwapped(_log, old.Info.Version, next.Info.Version);
            return next.Info;
        }
        finally
        {
            _loading.Release();
        }
    }

    private ModelGeneration Load()
    {
        var model = Checkpoint.Load(_path, _accelerator, _weights);
        try
        {
            var info = new ServedModelInfo(Interlocked.Increment(ref _versions), model.Config, _accelerator.DeviceName, _path, DateTimeOffset.UtcNow)
            {
                Weights = model.Weights.ToName(),
            };
            var generation = new ModelGeneration(model, _executors, info);
            LogLoaded(_log, info.Version, _path, info.Device, model.Config.ToString());
            return generation;
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    public void Dispose()
    {
        Volatile.Read(ref _current).Release();
        _loading.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Serving model version {Version} from {Path} on {Device}: {Config}")]
    private static partial void LogLoaded(ILogger log, long version, string path, string device, string config);

    [LoggerMessage(Level = LogLevel.Information, Message = "Swapped model version {Old} for version {New}; batches in flight finish on version {Old}")]
    private static partial void LogSwapped(ILogger log, long old, long @new);

    [LoggerMessage(Level = LogLevel.Error, Message = "Reloading {Path} failed, the current model keeps serving: {Problem}")]
    private static partial void LogReloadFailed(ILogger log, string path, string problem);
}
