using System.Text.Json;

namespace RnnGpu.LoadTest;

/// <summary>The distinct requests: random sequences [steps, I] of random lengths, flat and as predict JSON, made once.</summary>
public sealed class Workload
{
    public Workload(LoadOptions o, int seed)
    {
        var rng = new Random(seed);
        Bodies = new byte[o.Distinct][];
        Inputs = new float[o.Distinct][];
        for (int i = 0; i < Bodies.Length; i++)
        {
            var input = new float[rng.Next(o.MinSteps, o.MaxSteps + 1)][];
            for (int t = 0; t < input.Length; t++)
            {
                input[t] = new float[o.Input];
                for (int k = 0; k < o.Input; k++) input[t][k] = (float)(rng.NextDouble() * 2 - 1);
            }
            Bodies[i] = JsonSerializer.SerializeToUtf8Bytes(new { input });
            Inputs[i] = input.SelectMany(row => row).ToArray();
        }
    }

    public byte[][] Bodies { get; }

    /// <summary>[steps * I] per request, for the direct transport.</summary>
    public float[][] Inputs { get; }
}
