using System.Globalization;
using RnnGpu.Accelerators;
using RnnGpu.Model;

namespace RnnGpu.IO;

/// <summary>
/// Models as safetensors files with PyTorch's state_dict names (rnn.weight_ih_l0, ..., rnn.weight_hr_l0 for an LSTM
/// with a projection, head.weight, head.bias) and the architecture in the header's __metadata__. A state_dict that
/// PyTorch saved under those names loads as it is: without metadata the cell, the sizes, layers, directions and
/// projection come from the names and shapes (<see cref="InferCell"/>) and an Elman cell's nonlinearity is tanh,
/// nn.RNN's default. Saving is atomic.
/// </summary>
public static class Checkpoint
{
    private const string Nonlinearity = "nonlinearity", Layers = "num_layers", Input = "input_size",
        Hidden = "hidden_size", Output = "output_size", Vocabulary = "vocabulary", Format = "format",
        Bidirectional = "bidirectional", Dropout = "dropout", HeadInputKey = "head_input", CellKey = "cell", Projection = "proj_size";

    /// <summary>Saves the model; a quantized one as its quantized weights (<see cref="QuantizedCheckpoint"/>).</summary>
    public static void Save(RnnModel model, string path)
    {
        var (tensors, dtypes) = Tensors(model);
        SafetensorsWriter.Write(path, tensors, Metadata(model), dtypes);
    }

    /// <summary>The tensors a checkpoint of the model holds, and the dtype of those not F32: its state_dict, or a quantized model's quantized weights and biases.</summary>
    internal static (IReadOnlyDictionary<string, Tensor> Tensors, IReadOnlyDictionary<string, SafetensorsDType> DTypes) Tensors(RnnModel model) =>
        model.IsQuantized ? QuantizedCheckpoint.Tensors(model) : (model.StateDict(), new Dictionary<string, SafetensorsDType>());

    /// <summary>The architecture (and vocabulary) as the header's __metadata__ holds it.</summary>
    internal static Dictionary<string, string> Metadata(RnnModel model)
    {
        var c = model.Config;
        var metadata = new Dictionary<string, string>
        {
            [Format] = c.Cell == CellKind.Rnn ? "rnngpu-elman-1" : $"rnngpu-{c.Cell.ToName()}-1",
            [CellKey] = c.Cell.ToName(),
            [Nonlinearity] = c.Nonlinearity.ToName(),
            [Layers] = Str(c.NumLayers),
            [Input] = Str(c.InputSize),
            [Hidden] = Str(c.HiddenSize),
            [Output] = Str(c.OutputSize),
            [Bidirectional] = c.Bidirectional ? "1" : "0",
            [Dropout] = c.Dropout.ToString("R", CultureInfo.InvariantCulture),
            [HeadInputKey] = c.ManyToOne ? "final_state" : "every_step",
        };
        if (c.ProjSize > 0) metadata[Projection] = Str(c.ProjSize);
        if (model.Vocabulary is { } vocab) metadata[Vocabulary] = vocab;
        if (model.IsQuantized) metadata[QuantizedCheckpoint.WeightsKey] = model.Weights.ToName();
        return metadata;
    }

    /// <summary>
    /// Loads a model, its weights as stored (fp32, int8 or bf16) or as <paramref name="weights"/> asks: a float32 checkpoint
    /// quantizes at load; a quantized one loads only as what it stores.
    /// </summary>
    public static RnnModel Load(string path, Accelerator accelerator, QuantizedWeights? weights = null) =>
        Load(SafetensorsFile.Read(path), accelerator, weights);

    /// <summary>A model from a file already read (or one part of a larger file): its tensors and metadata.</summary>
    public static RnnModel Load(SafetensorsFile file, Accelerator accelerator, QuantizedWeights? weights = null)
    {
        ArgumentNullException.ThrowIfNull(file);
        var (stored, plain, quantized) = QuantizedCheckpoint.Split(file);
        if (stored != QuantizedWeights.Fp32 && weights is { } asked && asked != stored)
            throw new FileFormatException(file.Path, $"the checkpoint's weights are {stored.ToName()}: they load as {stored.ToName()}, not {asked.ToName()} (quantize a float32 checkpoint)");
        var model = LoadPlain(plain, accelerator);
        try
        {
            if (stored != QuantizedWeights.Fp32) model.LoadQuantized(stored, quantized);
            else model.Quantize(weights ?? QuantizedWeights.Fp32);
            return model;
        }
        catch (ShapeException e)
        {
            model.Dispose();
            throw new FileFormatException(file.Path, e.Message);
        }
    }

    private static RnnModel LoadPlain(SafetensorsFile file, Accelerator accelerator)
    {
        var config = ReadConfig(file);
        var layout = new ParameterLayout(config);
        var parameters = layout.Parameters.ToDictionary(p => p.Name, p => file.Get(p.Name, p.Shape));
        foreach (var name in file.Tensors.Keys)
            if (!layout.Contains(name))
                throw new FileFormatException(file.Path, $"unexpected tensor '{name}' for a {config.NumLayers}-layer model{(config.HasHead ? " with a head" : "")}");
        RnnModel model;
        try { model = RnnModel.FromParameters(config, accelerator, parameters); }
        catch (ShapeException e) { throw new FileFormatException(file.Path, e.Message); }
        model.Vocabulary = file.Metadata.GetValueOrDefault(Vocabulary);
        return model;
    }

    /// <summary>The architecture from the metadata, or from the tensor shapes where the metadata is silent; the two must agree.</summary>
    public static RnnConfig ReadConfig(SafetensorsFile file)
    {
        var t = file.Tensors;
        int layers = 0;
        while (t.ContainsKey(ParameterLayout.WeightIh(layers))) layers++;
        if (layers == 0 && file.Metadata.GetValueOrDefault(Format) == "rnngpu-seq2seq-1")
            throw new FileFormatException(file.Path, "an encoder-decoder checkpoint (encoder.* and decoder.* tensors), not a single model: load it with Seq2SeqCheckpoint.Load");
        if (layers == 0) throw new FileFormatException(file.Path, $"missing tensor '{ParameterLayout.WeightIh(0)}': not an RNN checkpoint");
        var wih = t[ParameterLayout.WeightIh(0)];
        if (wih.Rank != 2) throw new FileFormatException(file.Path, $"tensor '{ParameterLayout.WeightIh(0)}' has shape {wih.ShapeText}, expected [hidden, input]");
        int output = t.TryGetValue(ParameterLayout.HeadWeight, out var head) && head.Rank == 2 ? head.Shape[0] : 0;
        bool bidirectional = Meta(file, Bidirectional, t.ContainsKey(ParameterLayout.WeightIh(0, 1)) ? 1 : 0) == 1;
        var (cell, hidden, proj) = InferCell(file);

        var config = new RnnConfig(
            Meta(file, Input, wih.Shape[1]),
            Meta(file, Hidden, hidden),
            Meta(file, Layers, layers),
            file.Metadata.TryGetValue(Nonlinearity, out var act) ? ParseActivation(file, act) : Activation.Tanh,
            Meta(file, Output, output),
            bidirectional,
            ParseDropout(file),
            file.Metadata.GetValueOrDefault(HeadInputKey, "every_step") switch
            {
                "every_step" => HeadInput.EveryStep,
                "final_state" => HeadInput.FinalState,
                var other => throw new FileFormatException(file.Path, $"metadata '{HeadInputKey}' is '{other}', expected every_step or final_state"),
            },
            cell,
            Meta(file, Projection, proj));
        try { config.Validate(); }
        catch (ShapeException e) { throw new FileFormatException(file.Path, e.Message); }
        return config;
    }

    /// <summary>
    /// The cell, hidden size and projection from layer 0's weights, as PyTorch shapes them: weight_hr [P, H] makes an LSTM with
    /// a projection; otherwise weight_ih's rows over weight_hh's columns are the gate count (1 nn.RNN, 4 nn.LSTM, 3 nn.GRU).
    /// The metadata's cell, when present, must agree.
    /// </summary>
    private static (CellKind Cell, int Hidden, int Proj) InferCell(SafetensorsFile file)
    {
        var t = file.Tensors;
        string ih = ParameterLayout.WeightIh(0), hh = ParameterLayout.WeightHh(0), hr = ParameterLayout.WeightHr(0);
        if (!t.TryGetValue(hh, out var whh) || whh.Rank != 2)
            throw new FileFormatException(file.Path, whh is null ? $"missing tensor '{hh}'" : $"tensor '{hh}' has shape {whh.ShapeText}, expected [gates x hidden, hidden]");
        int rows = t[ih].Shape[0];
        CellKind cell;
        int hidden, proj = 0;
        if (t.TryGetValue(hr, out var whr))
        {
            if (whr.Rank != 2) throw new FileFormatException(file.Path, $"tensor '{hr}' has shape {whr.ShapeText}, expected [proj, hidden]");
            (cell, hidden, proj) = (CellKind.Lstm, whr.Shape[1], whr.Shape[0]);
            if (rows != 4 * hidden)
                throw new FileFormatException(file.Path, $"tensor '{ih}' has {rows} rows, but an LSTM with '{hr}' {whr.ShapeText} has 4 x {hidden}");
        }
        else
        {
            hidden = whh.Shape[1];
            cell = hidden > 0 && rows == hidden ? CellKind.Rnn : hidden > 0 && rows == 4 * hidden ? CellKind.Lstm : hidden > 0 && rows == 3 * hidden ? CellKind.Gru
                : throw new FileFormatException(file.Path,
                    $"tensor '{ih}' has {rows} rows and '{hh}' {whh.ShapeText}: an RNN has hidden rows, an LSTM 4 x hidden, a GRU 3 x hidden");
        }
        if (file.Metadata.TryGetValue(CellKey, out var named))
        {
            CellKind said;
            try { said = CellKindNames.ParseCell(named); }
            catch (ShapeException e) { throw new FileFormatException(file.Path, e.Message); }
            if (said != cell) throw new FileFormatException(file.Path, $"metadata '{CellKey}' says {named} but the tensors' shapes are those of a {cell.ToName()}");
        }
        return (cell, hidden, proj);
    }

    private static int Meta(SafetensorsFile file, string key, int fromShapes)
    {
        if (!file.Metadata.TryGetValue(key, out var text)) return fromShapes;
        if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int value))
            throw new FileFormatException(file.Path, $"metadata '{key}' is '{text}', not a whole number");
        if (value != fromShapes)
            throw new FileFormatException(file.Path, $"metadata '{key}' says {value} but the tensors say {fromShapes}");
        return value;
    }

    private static float ParseDropout(SafetensorsFile file)
    {
        if (!file.Metadata.TryGetValue(Dropout, out var text)) return 0f;
        if (!float.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out float p))
            throw new FileFormatException(file.Path, $"metadata '{Dropout}' is '{text}', not a number");
        return p;
    }

    private static Activation ParseActivation(SafetensorsFile file, string name)
    {
        try { return ActivationNames.Parse(name); }
        catch (ShapeException e) { throw new FileFormatException(file.Path, e.Message); }
    }

    private static string Str(int v) => v.ToString(CultureInfo.InvariantCulture);
}
