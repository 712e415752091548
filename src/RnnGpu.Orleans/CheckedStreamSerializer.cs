using Orleans.Storage;

namespace RnnGpu.Orleans;

/// <summary>
/// The grain storage serializer of the streams' storage: the silo's own, except that bytes which are no stream state read as
/// a <see cref="StoredStream"/> marked damaged instead of failing inside the storage provider. The grain then refuses the
/// stream with a <see cref="StreamProblem.CorruptState"/> error naming it, and the record keeps its ETag, so it can be deleted
/// or restarted.
/// </summary>
internal sealed class CheckedStreamSerializer(IGrainStorageSerializer inner) : IGrainStorageSerializer
{
    public BinaryData Serialize<T>(T? input) => inner.Serialize(input);

    public T Deserialize<T>(BinaryData input)
    {
        try
        {
            return inner.Deserialize<T>(input)!;
        }
        catch (Exception e) when (typeof(T) == typeof(StoredStream))
        {
            return (T)(object)StoredStream.Damaged($"its {input.ToMemory().Length} stored bytes do not decode ({e.GetType().Name}: {e.Message})");
        }
    }
}
