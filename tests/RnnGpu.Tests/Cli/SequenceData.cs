using RnnGpu.IO;
using Xunit;

namespace RnnGpu.Tests.Cli;

/// <summary>Small numeric training sets written as .npy.</summary>
internal static class SequenceData
{
    public const int Batch = 6, Time = 5, Input = 3;

    /// <summary>X [6, 5, 3] in (-1, 1).</summary>
    public static float[] Inputs(int seed = 1)
    {
        var rng = new Random(seed);
        var x = new float[Batch * Time * Input];
        for (int i = 0; i < x.Length; i++) x[i] = (float)(rng.NextDouble() * 2 - 1);
        return x;
    }

    /// <summary>Y [6, 5, 2]: the running sum of input 0 and the current input 1, a task that needs the recurrence.</summary>
    public static float[] RegressionTargets(float[] x)
    {
        var y = new float[Batch * Time * 2];
        for (int b = 0; b < Batch; b++)
        {
            float sum = 0;
            for (int t = 0; t < Time; t++)
            {
                int i = (b * Time + t) * Input, o = (b * Time + t) * 2;
                sum += x[i];
                y[o] = sum * 0.5f;
                y[o + 1] = x[i + 1];
            }
        }
        return y;
    }

    /// <summary>Class ids [6, 5]: 0..3 from the sign pattern of the first two inputs.</summary>
    public static long[] ClassIds(float[] x)
    {
        var ids = new long[Batch * Time];
        for (int k = 0; k < ids.Length; k++) ids[k] = (x[k * Input] > 0 ? 1 : 0) + (x[k * Input + 1] > 0 ? 2 : 0);
        return ids;
    }

    public static (string X, string Y) WriteRegression(CliHarness cli)
    {
        var x = Inputs();
        return (cli.WriteNpy("x.npy", NpyArray.FromFloat32(x, Batch, Time, Input)),
                cli.WriteNpy("y.npy", NpyArray.FromFloat32(RegressionTargets(x), Batch, Time, 2)));
    }
}
