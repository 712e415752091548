using RnnGpu.Model;

namespace RnnGpu.Serving;

/// <summary>
/// One loaded checkpoint: the model, one inference view of it per executor (its own buffers over the
/// same weights), and a count of its users. The host holds one use while the generation is current;
/// each running batch holds another, so a swapped-out generation is freed when its last batch ends.
/// </summary>
internal sealed class ModelGeneration
{
    /// <summary>Workspaces kept per view: batches vary in size and length, each (size, length bucket) keeps its own.</summary>
    private const int CachedShapesPerView = 64;

    private readonly RnnModel _model;
    private readonly RnnModel[] _views;
    private int _users = 1;

    public ModelGeneration(RnnModel model, int executors, ServedModelInfo info)
    {
        _model = model;
        model.CachedShapes = CachedShapesPerView;
        _views = new RnnModel[executors];
        _views[0] = model;
        for (int i = 1; i < executors; i++) _views[i] = model.CreateInferenceView();
        Info = info;
    }

    public ServedModelInfo Info { get; }
    public RnnConfig Config => _model.Config;

    /// <summary>The model executor <paramref name="executor"/> runs: views are not thread-safe, so each executor has its own.</summary>
    public RnnModel View(int executor) => _views[executor];

    /// <summary>A use for one batch; false once the generation has been freed (the caller reads the current one again).</summary>
    public bool TryAcquire()
    {
        while (true)
        {
            int users = Volatile.Read(ref _users);
            if (users == 0) return false;
            if (Interlocked.CompareExchange(ref _users, users + 1, users) == users) return true;
        }
    }

    /// <summary>Ends a use; the last one frees the buffers and weights.</summary>
    public void Release()
    {
        if (Interlocked.Decrement(ref _users) != 0) return;
        for (int i = _views.Length - 1; i >= 0; i--) _views[i].Dispose();   // views before the model that owns the weights
    }
}
