using System.Text.Json;
using Xunit;

namespace RnnGpu.Tests.Cli;

public sealed class BenchAndDevicesTests : IDisposable
{
    private readonly CliHarness _cli = new();

    public void Dispose() => _cli.Dispose();

    private static JsonElement[] JsonLines(string output) =>
        output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(line => JsonDocument.Parse(line).RootElement).ToArray();

    [Fact]
    public void Bench_prints_one_json_line_per_mode()
    {
        var r = _cli.Ok("bench", "--backend", "cpu", "--batch", "2", "--seq", "5", "--input", "3", "--hidden", "8", "--layers", "2", "--warmup", "1", "--iters", "3");
        var lines = JsonLines(r.Out);
        Assert.Equal(["infer", "train"], lines.Select(l => l.GetProperty("mode").GetString()));
        foreach (var l in lines)
        {
            Assert.Equal("cpu", l.GetProperty("backend").GetString());
            Assert.False(string.IsNullOrEmpty(l.GetProperty("device").GetString()));
            Assert.Equal(2, l.GetProperty("batch").GetInt32());
            Assert.Equal(5, l.GetProperty("seq").GetInt32());
            Assert.Equal(3, l.GetProperty("input").GetInt32());
            Assert.Equal(8, l.GetProperty("hidden").GetInt32());
            Assert.Equal(2, l.GetProperty("layers").GetInt32());
            double median = l.GetProperty("ms_per_iter").GetDouble(), min = l.GetProperty("ms_min").GetDouble();
            Assert.True(median > 0 && min > 0 && min <= median, l.ToString());
            Assert.True(l.GetProperty("gflops").GetDouble() > 0, l.ToString());
        }
        // FLOPs: 2·T·B·(3·8 + 8·8) + 2·T·B·(8·8 + 8·8) = 20·(88 + 128) = 4320 forward; train counts 3x.
        double inferFlops = lines[0].GetProperty("gflops").GetDouble() * lines[0].GetProperty("ms_per_iter").GetDouble() * 1e6;
        Assert.InRange(inferFlops, 4320 * 0.99, 4320 * 1.01);
    }

    [Fact]
    public void Bench_modes_and_head()
    {
        var infer = JsonLines(_cli.Ok("bench", "--backend", "cpu", "--mode", "infer", "--batch", "1", "--seq", "3", "--input", "2", "--hidden", "4", "--iters", "1", "--warmup", "0").Out);
        Assert.Single(infer);
        var train = JsonLines(_cli.Ok("bench", "--mode", "train", "--batch", "1", "--seq", "3", "--input", "2", "--hidden", "4", "--output", "5", "--iters", "2").Out);
        Assert.Single(train);
        Assert.Equal(5, train[0].GetProperty("output").GetInt32());
        Assert.Equal(2, _cli.Fails(["bench", "--mode", "fast"], "--mode").ExitCode);
        Assert.Equal(2, _cli.Fails(["bench", "--hidden", "0"], "--hidden").ExitCode);
        Assert.Equal(2, _cli.Fails(["bench", "--iters", "0"], "--iters").ExitCode);
        _cli.Fails(["bench", "--backend", "nosuch"], "nosuch");
    }

    [Fact]
    public void Device_index_selects_within_the_back_end()
    {
        var line = JsonLines(_cli.Ok("bench", "--backend", "cpu", "--device", "0", "--mode", "infer", "--batch", "1", "--seq", "2", "--input", "2", "--hidden", "3", "--iters", "1", "--warmup", "0").Out);
        Assert.Equal("cpu", line[0].GetProperty("backend").GetString());
        _cli.Fails(["bench", "--backend", "cpu", "--device", "1"], "device");
        _cli.Fails(["bench", "--backend", "opencl", "--device", "99"], "99");
        Assert.Equal(2, _cli.Fails(["bench", "--device", "-1"], "--device").ExitCode);
    }

    [Fact]
    public void Devices_lists_the_cpu_in_a_table()
    {
        var r = _cli.Ok("devices");
        Assert.Contains("Backend", r.Out);
        Assert.Contains("cpu", r.Out);
        Assert.Contains("Memory", r.Out);
        Assert.Contains("no cuda devices", _cli.Ok("devices", "--backend", "cuda").Out);
    }
}
