namespace RnnGpu.IO;

/// <summary>One validated tensor record of a safetensors header; Begin/End are relative to the start of the data blob.</summary>
internal sealed record SafetensorsEntry(string Name, SafetensorsDType DType, int[] Shape, long Count, long Begin, long End)
{
    public long ByteLength => End - Begin;
}
