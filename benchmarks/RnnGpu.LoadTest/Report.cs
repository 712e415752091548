using System.Globalization;
using System.Runtime.InteropServices;

namespace RnnGpu.LoadTest;

/// <summary>The runs as a markdown table, with the machine, the shapes and the date.</summary>
public static class Report
{
    public static string Markdown(LoadOptions o, IReadOnlyList<RunResult> runs)
    {
        var c = CultureInfo.InvariantCulture;
        var w = new StringWriter(c);
        w.WriteLine("## RnnGpu.Server load test");
        w.WriteLine();
        w.WriteLine($"- date: {DateTimeOffset.UtcNow:yyyy-MM-dd HH:mm} UTC");
        w.WriteLine($"- machine: {Environment.ProcessorCount} logical cores, {RuntimeInformation.OSDescription} {RuntimeInformation.OSArchitecture}, {RuntimeInformation.FrameworkDescription}");
        w.WriteLine($"- model: input {o.Input}, hidden {o.Hidden}, layers {o.Layers}, output {o.Output}, tanh; backend {o.Backend}, executors {(o.Executors == 0 ? "default" : o.Executors)}");
        w.WriteLine($"- load: {o.Clients} concurrent clients, {o.Requests} requests per run after {o.Warmup} untimed, {o.Distinct} distinct sequences of {o.MinSteps}-{o.MaxSteps} steps; server and clients in one process; {o.Rounds} round(s) of every run, interleaved");
        foreach (string t in o.Transports) w.WriteLine($"- {t}: {How(t)}");
        w.WriteLine();
        w.WriteLine("| transport | run | max batch | max wait | req/s | p50 ms | p99 ms | max ms | mean batch | responses bit-equal to alone |");
        w.WriteLine("|---|---|---:|---:|---:|---:|---:|---:|---:|---|");
        foreach (var r in runs)
        {
            string batch = r.MeanBatch is { } m ? m.ToString("F2", c) : "n/a";
            string wait = r.MaxBatch == 1 ? "-" : $"{o.MaxWaitUs} µs";
            string equal = r.Mismatches == 0 ? $"all {r.LatenciesMs.Length}" : $"**{r.Mismatches} differ**";
            w.WriteLine(string.Create(c, $"| {r.Transport} | {r.Name} | {r.MaxBatch} | {wait} | {r.RequestsPerSecond:F0} | {r.Percentile(0.5):F2} | {r.Percentile(0.99):F2} | {r.LatenciesMs[^1]:F2} | {batch} | {equal} |"));
        }
        if (o.Rounds > 1)
        {
            w.WriteLine();
            w.WriteLine($"Medians over the {o.Rounds} rounds:");
            w.WriteLine();
            w.WriteLine("| transport | run | req/s | p50 ms | p99 ms |");
            w.WriteLine("|---|---|---:|---:|---:|");
            foreach (var g in runs.GroupBy(r => (r.Transport, r.Name)))
                w.WriteLine(string.Create(c, $"| {g.Key.Transport} | {g.Key.Name} | {Median(g.Select(r => r.RequestsPerSecond)):F0} | {Median(g.Select(r => r.Percentile(0.5))):F2} | {Median(g.Select(r => r.Percentile(0.99))):F2} |"));
        }
        return w.ToString();
    }

    private static string How(string transport) => transport switch
    {
        "direct" => "RnnInference.PredictAsync calls in-process (no network)",
        "grpc" => "the gRPC Predict call (packed floats) over loopback HTTP/2, one channel",
        _ => "POST /v1/predict (JSON) over loopback HTTP/1.1",
    };

    private static double Median(IEnumerable<double> values)
    {
        var v = values.Order().ToArray();
        return v.Length % 2 == 1 ? v[v.Length / 2] : (v[v.Length / 2 - 1] + v[v.Length / 2]) / 2;
    }
}
