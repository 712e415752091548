using RnnGpu.Accelerators;
using RnnGpu.IO;
using RnnGpu.Model;

namespace RnnGpu.Tasks;

/// <summary>
/// An encoder-decoder pair as one safetensors file: each model's PyTorch state_dict under the prefixes
/// "encoder." and "decoder." (encoder.rnn.weight_ih_l0, ..., decoder.head.bias, as a PyTorch module
/// with submodules `encoder` and `decoder` names them), each model's architecture in the metadata under
/// the same prefixes, "format" = "rnngpu-seq2seq-1" and "feedback" = identity | argmax | sigmoid. A quantized
/// pair stores each model's quantized weights as a single model's checkpoint does (encoder.rnn.weight_hh_l0.int8 with
/// encoder.rnn.weight_hh_l0.scale, ...). Saving is atomic.
/// </summary>
public static class Seq2SeqCheckpoint
{
    public const string FormatName = "rnngpu-seq2seq-1";
    public const string EncoderPrefix = "encoder.", DecoderPrefix = "decoder.";
    private const string FormatKey = "format", FeedbackKey = "feedback";

    public static void Save(Seq2SeqModel model, string path)
    {
        ArgumentNullException.ThrowIfNull(model);
        var tensors = new Dictionary<string, Tensor>();
        var dtypes = new Dictionary<string, SafetensorsDType>();
        var metadata = new Dictionary<string, string> { [FormatKey] = FormatName, [FeedbackKey] = model.FeedbackKind.ToName() };
        foreach (var (prefix, part) in new[] { (EncoderPrefix, model.Encoder), (DecoderPrefix, model.Decoder) })
        {
            var (partTensors, partDTypes) = Checkpoint.Tensors(part);
            foreach (var (name, value) in partTensors) tensors[prefix + name] = value;
            foreach (var (name, dtype) in partDTypes) dtypes[prefix + name] = dtype;
            foreach (var (key, value) in Checkpoint.Metadata(part)) metadata[prefix + key] = value;
        }
        SafetensorsWriter.Write(path, tensors, metadata, dtypes);
    }

    /// <summary>Whether a file read from disk is an encoder-decoder checkpoint (by its format metadata).</summary>
    public static bool IsSeq2Seq(SafetensorsFile file)
    {
        ArgumentNullException.ThrowIfNull(file);
        return file.Metadata.GetValueOrDefault(FormatKey) == FormatName;
    }

    /// <summary>
    /// Both models, their weights as stored (fp32, int8 or bf16) or as <paramref name="weights"/> asks (see
    /// <see cref="Checkpoint.Load(string, Accelerator, QuantizedWeights?)"/>).
    /// </summary>
    public static Seq2SeqModel Load(string path, Accelerator accelerator, QuantizedWeights? weights = null) =>
        Load(SafetensorsFile.Read(path), accelerator, weights);

    /// <summary>Both models from a file already read; every problem is a <see cref="FileFormatException"/> naming it.</summary>
    public static Seq2SeqModel Load(SafetensorsFile file, Accelerator accelerator, QuantizedWeights? weights = null)
    {
        ArgumentNullException.ThrowIfNull(file);
        if (!IsSeq2Seq(file))
            throw new FileFormatException(file.Path, file.Tensors.ContainsKey(ParameterLayout.WeightIh(0))
                ? "a single-model checkpoint, not an encoder-decoder one: load it with Checkpoint.Load"
                : $"not an encoder-decoder checkpoint: its metadata lacks \"{FormatKey}\": \"{FormatName}\"");
        foreach (var name in file.Tensors.Keys)
            if (!name.StartsWith(EncoderPrefix, StringComparison.Ordinal) && !name.StartsWith(DecoderPrefix, StringComparison.Ordinal))
                throw new FileFormatException(file.Path, $"unexpected tensor '{name}': every tensor of an encoder-decoder checkpoint starts with '{EncoderPrefix}' or '{DecoderPrefix}'");
        FeedbackKind feedback;
        try { feedback = Feedback.Parse(file.Metadata.GetValueOrDefault(FeedbackKey, "identity")); }
        catch (ShapeException e) { throw new FileFormatException(file.Path, $"metadata '{FeedbackKey}': {e.Message}"); }

        var encoder = Checkpoint.Load(Part(file, EncoderPrefix), accelerator, weights);
        RnnModel? decoder = null;
        try
        {
            decoder = Checkpoint.Load(Part(file, DecoderPrefix), accelerator, weights);
            try { return new Seq2SeqModel(encoder, decoder, feedback); }
            catch (ShapeException e) { throw new FileFormatException(file.Path, e.Message); }
        }
        catch
        {
            encoder.Dispose();
            decoder?.Dispose();
            throw;
        }
    }

    /// <summary>The tensors, their dtypes and the metadata under one prefix, the prefix removed, as a file of their own (errors still name the file).</summary>
    private static SafetensorsFile Part(SafetensorsFile file, string prefix)
    {
        static Dictionary<string, T> Strip<T>(IReadOnlyDictionary<string, T> all, string prefix) =>
            all.Where(kv => kv.Key.StartsWith(prefix, StringComparison.Ordinal)).ToDictionary(kv => kv.Key[prefix.Length..], kv => kv.Value);
        var tensors = Strip(file.Tensors, prefix);
        if (tensors.Count == 0) throw new FileFormatException(file.Path, $"no '{prefix}*' tensors: the {prefix.TrimEnd('.')} is missing");
        return new SafetensorsFile($"{file.Path} ({prefix.TrimEnd('.')})", tensors, Strip(file.Metadata, prefix), Strip(file.DTypes, prefix));
    }
}
