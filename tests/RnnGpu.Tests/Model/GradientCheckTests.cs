using RnnGpu.Accelerators;
using RnnGpu.Model;
using RnnGpu.Tests.Support;
using RnnGpu.Training;

namespace RnnGpu.Tests.Model;

/// <summary>
/// Every gradient the engine computes by BPTT (all parameters, the input, the initial state) against
/// central finite differences of the independent float64 <see cref="ReferenceRnn"/> loss.
/// </summary>
public sealed class GradientCheckTests
{
    public static IEnumerable<object[]> Cases()
    {
        // layers, activation, input, hidden, output (0: no head), batch, time, loss
        object[][] configs =
        [
            [1, Activation.Tanh, 3, 5, 4, 2, 7, LossKind.Mse],
            [2, Activation.Tanh, 3, 4, 3, 3, 5, LossKind.CrossEntropy],
            [2, Activation.Relu, 5, 7, 4, 2, 6, LossKind.Mse],
            [3, Activation.Tanh, 4, 3, 2, 2, 4, LossKind.BinaryCrossEntropy],
            [2, Activation.Tanh, 2, 5, 0, 3, 3, LossKind.Mse],
            [1, Activation.Relu, 7, 13, 6, 1, 9, LossKind.CrossEntropy],
        ];
        foreach (var backend in TestBackends.Names)
        foreach (var c in configs)
            yield return [backend, .. c];
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Bptt_gradients_match_finite_differences(string backend, int layers, Activation act, int input, int hidden,
        int output, int batch, int time, LossKind loss)
    {
        using var acc = TestBackends.Open(backend);
        var config = new RnnConfig(input, hidden, layers, act, output);
        using var model = RnnModel.Create(config, acc, seed: 42);
        var rng = new Random(7);
        var x = new Tensor(Numerics.Random(rng, batch * time * input), batch, time, input);
        var h0 = new Tensor(Numerics.Random(rng, layers * batch * hidden, 0.5f), layers, batch, hidden);
        var target = MakeTarget(rng, loss, batch, time, config.OutputWidth);

        var result = model.ComputeGradients(x, target, loss, h0);

        var reference = ReferenceRnn.FromModel(model);
        double[] xd = ToDouble(x), h0d = ToDouble(h0), td = ToDouble(target);
        double Loss() => reference.Loss(xd, h0d, td, loss, batch, time);
        Assert.InRange(result.Loss, Loss() - 1e-5 * Math.Abs(Loss()) - 1e-7, Loss() + 1e-5 * Math.Abs(Loss()) + 1e-7);

        foreach (var (name, values) in reference.Parameters)
            Numerics.AssertClose(FiniteDifferences(values, Loss), result.Parameters[name].Data, 1e-3, 2e-5, $"d{name}");
        Numerics.AssertClose(FiniteDifferences(xd, Loss), result.Input.Data, 1e-3, 2e-5, "dInput");
        Numerics.AssertClose(FiniteDifferences(h0d, Loss), result.InitialState.Data, 1e-3, 2e-5, "dH0");
    }

    internal static Tensor MakeTarget(Random rng, LossKind loss, int batch, int time, int width) => loss switch
    {
        LossKind.CrossEntropy => new Tensor(Enumerable.Range(0, batch * time).Select(_ => (float)rng.Next(width)).ToArray(), batch, time),
        LossKind.BinaryCrossEntropy => new Tensor(Enumerable.Range(0, batch * time * width).Select(_ => (float)rng.NextDouble()).ToArray(), batch, time, width),
        _ => new Tensor(Numerics.Random(rng, batch * time * width), batch, time, width),
    };

    private static double[] ToDouble(Tensor t) => t.Data.Select(v => (double)v).ToArray();

    /// <summary>Central differences (f(v + e) - f(v - e)) / 2e of f with respect to each element of v, in place.</summary>
    private static double[] FiniteDifferences(double[] v, Func<double> f)
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
