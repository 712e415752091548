using System.Runtime.Intrinsics;
using RnnGpu.Accelerators.Cpu;

namespace RnnGpu.Tests.Kernels;

/// <summary>The CPU kernels' own tanh against float64 Math.Tanh, and its two vector widths against each other.</summary>
public sealed class CpuTanhTests
{
    /// <summary>The float spacing at |x|: what one ulp of the exact result is.</summary>
    private static double Ulp(double x) => Math.Max((double)MathF.BitIncrement((float)Math.Abs(x)) - (float)Math.Abs(x), float.Epsilon);

    [Fact]
    public void Is_within_three_ulp_of_the_exact_value_over_every_binade_and_both_widths_agree_bit_for_bit()
    {
        // Every 97th float from 1e-30 up to 12 (past the clamp), both signs: about 11 million values.
        uint lo = BitConverter.SingleToUInt32Bits(1e-30f), hi = BitConverter.SingleToUInt32Bits(12f);
        var x = new float[16];
        double worst = 0;
        float worstAt = 0;
        for (uint bits = lo; bits < hi; bits += 16 * 97)
        {
            for (int i = 0; i < 16; i++) x[i] = BitConverter.UInt32BitsToSingle(bits + (uint)(97 * i)) * (i % 2 == 0 ? 1 : -1);
            var wide = CpuTanh.Of(Vector512.Create(x));
            var low = CpuTanh.Of(Vector256.Create(x.AsSpan(0, 8)));
            var high = CpuTanh.Of(Vector256.Create(x.AsSpan(8, 8)));
            for (int i = 0; i < 16; i++)
            {
                double exact = Math.Tanh(x[i]), ulps = Math.Abs(wide[i] - exact) / Ulp(exact);
                if (ulps > worst) (worst, worstAt) = (ulps, x[i]);
                Assert.Equal(wide[i], i < 8 ? low[i] : high[i - 8]);
            }
        }
        Assert.True(worst <= 3, $"{worst:F2} ulp from tanh at {worstAt:R}");
    }

    [Fact]
    public void Keeps_the_special_values()
    {
        var x = Vector512.Create(0f, -0f, float.NaN, float.PositiveInfinity, float.NegativeInfinity, 30f, -30f, 1e-40f,
            -1e-40f, 0.625f, -0.625f, 10f, 1e-45f, float.MaxValue, float.MinValue, 0.5f);
        var y = CpuTanh.Of(x);
        Assert.Equal(0f, y[0]);
        Assert.True(float.IsNegative(y[1]) && y[1] == 0f);
        Assert.True(float.IsNaN(y[2]));
        Assert.Equal([1f, -1f, 1f, -1f], [y[3], y[4], y[5], y[6]]);
        Assert.Equal(1e-40f, y[7]);
        Assert.Equal(-1e-40f, y[8]);
        Assert.Equal(-y[9], y[10]);
        Assert.Equal(1f, y[11]);
        Assert.Equal(1e-45f, y[12]);
        Assert.Equal([1f, -1f], [y[13], y[14]]);
        Assert.Equal((float)Math.Tanh(0.5), y[15], 1e-7f);
    }
}
