namespace RnnGpu.Tests.Support;

/// <summary>Random data and tolerance checks shared by the numerical tests.</summary>
public static class Numerics
{
    public static float[] Random(Random rng, long n, float scale = 1f)
    {
        var a = new float[n];
        for (long i = 0; i < n; i++) a[i] = (float)(rng.NextDouble() * 2 - 1) * scale;
        return a;
    }

    /// <summary>
    /// Every element within atol + rtol |expected|, and the whole within rtol in relative L2 norm.
    /// The failure message names the first bad element.
    /// </summary>
    public static void AssertClose(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, double rtol, double atol, string what)
    {
        Assert.True(expected.Length == actual.Length, $"{what}: length {actual.Length}, expected {expected.Length}");
        double diff2 = 0, ref2 = 0;
        for (int i = 0; i < expected.Length; i++)
        {
            double e = expected[i], a = actual[i];
            if (!(Math.Abs(a - e) <= atol + rtol * Math.Abs(e)))
                Assert.Fail($"{what}: element {i} is {a}, expected {e} (|diff| {Math.Abs(a - e):g3} > {atol:g2} + {rtol:g2}·|expected|)");
            diff2 += (a - e) * (a - e);
            ref2 += e * e;
        }
        double rel = Math.Sqrt(diff2) / Math.Max(Math.Sqrt(ref2), 1e-30);
        Assert.True(ref2 == 0 || rel <= rtol, $"{what}: relative L2 error {rel:g3} > {rtol:g2}");
    }

    public static void AssertClose(ReadOnlySpan<double> expected, ReadOnlySpan<float> actual, double rtol, double atol, string what)
    {
        var e = new float[expected.Length];
        for (int i = 0; i < e.Length; i++) e[i] = (float)expected[i];
        AssertClose(e, actual, rtol, atol, what);
    }

    public static double[] ToDouble(Tensor t) => t.Data.Select(v => (double)v).ToArray();

    /// <summary>Central differences (f(v + e) - f(v - e)) / 2e of f with respect to each element of v, in place.</summary>
    public static double[] FiniteDifferences(double[] v, Func<double> f)
    {
        const double e = 1e-6;
        var grad = new double[v.Length];
        for (int i = 0; i < v.Length; i++)
        {
            double saved = v[i];
            v[i] = saved + e;
            double plus = f();
            v[i] = saved - e;
            double minus = f();
            v[i] = saved;
            grad[i] = (plus - minus) / (2 * e);
        }
        return grad;
    }
}
