using RnnGpu.Model;

namespace RnnGpu.Cli.Commands;

/// <summary>The model and batch a bench op runs on: x [Batch, Seq, I], the model's outputs [Batch, Seq, OutputWidth].</summary>
internal sealed record BenchShape(RnnConfig Config, int Batch, int Seq, int Seed)
{
    /// <summary>One step of every layer: Σ over layers of 2·B·(in_l·H + H·H), plus the head's 2·B·H·O.</summary>
    public double StepFlops
    {
        get
        {
            var c = Config;
            double flops = 0;
            for (int l = 0; l < c.NumLayers; l++)
                flops += 2.0 * Batch * ((double)c.LayerInputSize(l) * c.HiddenSize + (double)c.HiddenSize * c.HiddenSize);
            if (c.HasHead) flops += 2.0 * Batch * c.HiddenSize * c.OutputSize;
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
