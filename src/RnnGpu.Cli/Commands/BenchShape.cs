using RnnGpu.Accelerators;
using RnnGpu.Model;

namespace RnnGpu.Cli.Commands;

/// <summary>The model and batch a bench op runs on: x [Batch, Seq, I], the model's outputs [Batch, Seq, OutputWidth].</summary>
internal sealed record BenchShape(RnnConfig Config, int Batch, int Seq, int Seed, QuantizedWeights Weights = QuantizedWeights.Fp32)
{
    /// <summary>The random model of this shape, its weights quantized as asked.</summary>
    public RnnModel CreateModel(Accelerator acc)
    {
        var model = RnnModel.Create(Config, acc, Seed);
        model.Quantize(Weights);
        return model;
    }

    /// <summary>
    /// One step of every layer and direction: Σ of 2·B·G·H·(in_l + S) (G gates, S the state size), an LSTM's projection
    /// 2·B·H·P, plus the head's 2·B·D·S·O.
    /// </summary>
    public double StepFlops
    {
        get
        {
            var c = Config;
            double flops = 0;
            for (int l = 0; l < c.NumLayers; l++)
                flops += c.Directions * 2.0 * Batch * ((double)c.GateWidth * (c.LayerInputSize(l) + c.StateSize) + (double)c.HiddenSize * c.ProjSize);
            if (c.HasHead) flops += 2.0 * Batch * c.LayerOutputSize * c.OutputSize;
            return flops;
        }
    }

    /// <summary>The forward pass: <see cref="StepFlops"/> for each of the Seq steps.</summary>
    public double ForwardFlops => Seq * StepFlops;

    public static float[] RandomValues(Random random, long count, float scale = 1f)
    {
        var data = new float[count];
        for (long i = 0; i < count; i++) data[i] = (float)(random.NextDouble() * 2 - 1) * scale;
        return data;
    }

    public static Tensor RandomTensor(Random random, params int[] shape) =>
        new(RandomValues(random, Tensor.ElementCount(shape)), shape);
}
