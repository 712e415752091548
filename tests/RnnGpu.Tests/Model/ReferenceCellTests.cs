using RnnGpu.IO;
using RnnGpu.Model;
using RnnGpu.Tests.Support;

namespace RnnGpu.Tests.Model;

/// <summary>
/// The float64 reference LSTM and GRU (<see cref="ReferenceRnn"/>) against PyTorch 1.13's nn.LSTM (with and without
/// a projection) and nn.GRU, from the golden files of Fixtures/make_golden_cells.py: stacked, bidirectional and packed
/// batches. The forward pass must match PyTorch's outputs and final states, and central finite differences of the
/// reference's loss must match PyTorch's autograd gradients of every parameter, the input, h0 and c0.
/// </summary>
public sealed class ReferenceCellTests
{
    public static TheoryData<string> Fixtures => new("cell_lstm_1layer", "cell_lstm_proj_bidi_packed", "cell_gru_2layer", "cell_gru_bidi_packed");

    /// <summary>A fixture: the cell as its metadata describes it and every tensor in float64 by name.</summary>
    private sealed record Case(RnnConfig Config, int Batch, int Time, Dictionary<string, double[]> T)
    {
        public bool IsLstm => Config.HasCellState;

        public int[]? Lengths => T.TryGetValue("lengths", out var l) ? l.Select(v => (int)v).ToArray() : null;

        public static Case Load(string name)
        {
            var file = PyTorchGoldenTests.Load(name);
            return new Case(CellGoldenTests.ConfigOf(file), int.Parse(file.Metadata["batch"]), int.Parse(file.Metadata["time"]),
                file.Tensors.ToDictionary(kv => kv.Key, kv => kv.Value.Data.Select(v => (double)v).ToArray()));
        }

        /// <summary>The parameters under PyTorch's names, sharing the arrays (finite differences perturb them).</summary>
        public Dictionary<string, double[]> Parameters() =>
            T.Where(kv => kv.Key.StartsWith("rnn.", StringComparison.Ordinal)).ToDictionary(kv => kv.Key, kv => kv.Value);

        public (double[] Output, double[] HN, double[] CN) Run() =>
            new ReferenceRnn(Config, Parameters()).Run(T["x"], T["h0"], IsLstm ? T["c0"] : null, Batch, Time, Lengths);

        /// <summary>The fixture's loss: sum(output R) + sum(h_n Rh) (+ sum(c_n Rc)).</summary>
        public double Loss()
        {
            var (output, hn, cn) = Run();
            double loss = Dot(output, T["R"]) + Dot(hn, T["Rh"]);
            return IsLstm ? loss + Dot(cn, T["Rc"]) : loss;
        }

        private static double Dot(double[] a, double[] b) => a.Zip(b, (x, y) => x * y).Sum();
    }

    private static void AssertClose(double[] expected, double[] actual, double tol, string what)
    {
        Assert.True(expected.Length == actual.Length, $"{what}: {actual.Length} values, expected {expected.Length}");
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(actual[i] - expected[i]) <= tol * (1 + Math.Abs(expected[i])),
                $"{what}[{i}] is {actual[i]}, PyTorch has {expected[i]} (tolerance {tol:g2})");
    }

    [Theory]
    [MemberData(nameof(Fixtures))]
    public void Forward_matches_pytorch(string fixture)
    {
        var c = Case.Load(fixture);
        var (output, hn, cn) = c.Run();
        // The parameters and inputs are stored as float32 after PyTorch computed in float64 from their exact values.
        AssertClose(c.T["output"], output, 1e-5, $"{fixture} output");
        AssertClose(c.T["h_n"], hn, 1e-5, $"{fixture} h_n");
        if (c.IsLstm) AssertClose(c.T["c_n"], cn, 1e-5, $"{fixture} c_n");
        Assert.Equal(c.T["loss"][0], c.Loss(), 1e-4);
    }

    [Theory]
    [MemberData(nameof(Fixtures))]
    public void Finite_differences_of_the_reference_match_pytorchs_gradients(string fixture)
    {
        var c = Case.Load(fixture);
        var names = c.Parameters().Keys.Concat(c.IsLstm ? ["x", "h0", "c0"] : new[] { "x", "h0" }).ToList();
        Assert.Contains(c.Config.ProjSize > 0 ? "rnn.weight_hr_l0" : "rnn.weight_ih_l0", names);
        foreach (var name in names)
            AssertClose(c.T["grad." + name], Numerics.FiniteDifferences(c.T[name], c.Loss), 1e-4, $"{fixture} dL/d{name}");
    }
}
