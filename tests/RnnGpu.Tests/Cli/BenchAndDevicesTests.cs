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
            Assert.Equal("rnn", l.GetProperty("op").GetString());
            Assert.False(l.TryGetProperty("us_per_step", out _), l.ToString());
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
        var fresh = JsonLines(_cli.Ok("bench", "--backend", "cpu", "--mode", "infer-alloc", "--batch", "1", "--seq", "3", "--input", "2", "--hidden", "4", "--iters", "1", "--warmup", "0").Out);
        Assert.Equal("infer-alloc", Assert.Single(fresh).GetProperty("mode").GetString());
        Assert.Equal(infer[0].GetProperty("gflops").GetDouble() * infer[0].GetProperty("ms_per_iter").GetDouble(),
            fresh[0].GetProperty("gflops").GetDouble() * fresh[0].GetProperty("ms_per_iter").GetDouble(), 0.01 * infer[0].GetProperty("gflops").GetDouble() * infer[0].GetProperty("ms_per_iter").GetDouble());
        var train = JsonLines(_cli.Ok("bench", "--mode", "train", "--batch", "1", "--seq", "3", "--input", "2", "--hidden", "4", "--output", "5", "--iters", "2").Out);
        Assert.Single(train);
        Assert.Equal(5, train[0].GetProperty("output").GetInt32());
        Assert.Equal(2, _cli.Fails(["bench", "--mode", "fast"], "--mode").ExitCode);
        Assert.Equal(2, _cli.Fails(["bench", "--hidden", "0"], "--hidden").ExitCode);
        Assert.Equal(2, _cli.Fails(["bench", "--iters", "0"], "--iters").ExitCode);
        _cli.Fails(["bench", "--backend", "nosuch"], "nosuch");
    }

    /// <summary>The FLOPs a line stands for: GFLOP/s at the median time, back to operations.</summary>
    private static double Flops(JsonElement line) =>
        line.GetProperty("gflops").GetDouble() * line.GetProperty("ms_per_iter").GetDouble() * 1e6;

    [Fact]
    public void Bench_op_gemm_reports_its_shape_and_gflops()
    {
        var l = Assert.Single(JsonLines(_cli.Ok("bench", "--backend", "cpu", "--op", "gemm", "--m", "8", "--n", "5", "--k", "3", "--warmup", "1", "--iters", "3").Out));
        Assert.Equal("gemm", l.GetProperty("op").GetString());
        Assert.Equal("cpu", l.GetProperty("backend").GetString());
        Assert.Equal((8, 5, 3), (l.GetProperty("m").GetInt32(), l.GetProperty("n").GetInt32(), l.GetProperty("k").GetInt32()));
        Assert.Equal(3, l.GetProperty("iters").GetInt32());
        Assert.True(l.GetProperty("ms_min").GetDouble() > 0, l.ToString());
        Assert.InRange(Flops(l), 2 * 8 * 5 * 3 * 0.99, 2 * 8 * 5 * 3 * 1.01);
        Assert.False(l.TryGetProperty("mode", out _), l.ToString());

        // Without --m/--n/--k: the input projection of the rnn shape, [B·T, I] x [I, H].
        var d = Assert.Single(JsonLines(_cli.Ok("bench", "--backend", "cpu", "--op", "gemm", "--batch", "2", "--seq", "3", "--input", "4", "--hidden", "5", "--iters", "1").Out));
        Assert.Equal((6, 5, 4), (d.GetProperty("m").GetInt32(), d.GetProperty("n").GetInt32(), d.GetProperty("k").GetInt32()));
    }

    [Fact]
    public void Bench_op_step_reports_microseconds_and_bytes_per_step()
    {
        var l = Assert.Single(JsonLines(_cli.Ok("bench", "--backend", "cpu", "--op", "step", "--batch", "3", "--hidden", "16", "--warmup", "2", "--iters", "20").Out));
        Assert.Equal("step", l.GetProperty("op").GetString());
        Assert.Equal((3, 16), (l.GetProperty("batch").GetInt32(), l.GetProperty("hidden").GetInt32()));
        Assert.Equal("tanh", l.GetProperty("nonlinearity").GetString());
        Assert.Equal(20, l.GetProperty("iters").GetInt32());
        double us = l.GetProperty("us_per_step").GetDouble();
        Assert.InRange(us, l.GetProperty("ms_per_iter").GetDouble() * 1e3 * 0.99, l.GetProperty("ms_per_iter").GetDouble() * 1e3 * 1.01);
        Assert.True(l.GetProperty("bytes_per_step").GetDouble() >= 0, l.ToString());
        Assert.InRange(Flops(l), 2 * 3 * 16 * 16 * 0.99, 2 * 3 * 16 * 16 * 1.01);
    }

    [Fact]
    public void Bench_op_stream_reports_one_step_of_every_layer_and_the_head()
    {
        var l = Assert.Single(JsonLines(_cli.Ok("bench", "--backend", "cpu", "--op", "stream", "--batch", "1", "--input", "4", "--hidden", "8",
            "--layers", "2", "--output", "3", "--warmup", "10", "--iters", "100").Out));
        Assert.Equal("stream", l.GetProperty("op").GetString());
        Assert.Equal("infer", l.GetProperty("mode").GetString());
        Assert.Equal((1, 1, 4, 8, 2, 3), (l.GetProperty("batch").GetInt32(), l.GetProperty("seq").GetInt32(), l.GetProperty("input").GetInt32(),
            l.GetProperty("hidden").GetInt32(), l.GetProperty("layers").GetInt32(), l.GetProperty("output").GetInt32()));
        Assert.Equal(100, l.GetProperty("iters").GetInt32());
        double us = l.GetProperty("us_per_step").GetDouble(), bytes = l.GetProperty("bytes_per_step").GetDouble();
        Assert.True(us > 0 && l.GetProperty("ms_min").GetDouble() * 1e3 <= us * 1.001, l.ToString());   // us_per_step has 4 significant digits
        Assert.True(bytes >= 0 && double.IsFinite(bytes), l.ToString());
        // One step: 2·B·(4·8 + 8·8) + 2·B·(8·8 + 8·8) + head 2·B·8·3 = 192 + 256 + 48.
        Assert.InRange(Flops(l), 496 * 0.99, 496 * 1.01);
    }

    [Fact]
    public void Bench_op_usage_errors()
    {
        Assert.Equal(2, _cli.Fails(["bench", "--op", "conv"], "--op").ExitCode);
        Assert.Equal(2, _cli.Fails(["bench", "--op", "gemm", "--m", "0"], "--m").ExitCode);
        Assert.Equal(2, _cli.Fails(["bench", "--op", "gemm", "--k", "-3"], "--k").ExitCode);
        Assert.Equal(2, _cli.Fails(["bench", "--op", "stream", "--warmup", "-1"], "--warmup").ExitCode);
    }

    [Fact]
    public void Device_index_selects_within_the_back_end()
    {
        var line = JsonLines(_cli.Ok("bench", "--backend", "cpu", "--device", "0", "--mode", "infer", "--batch", "1", "--seq", "2", "--input", "2", "--hidden", "3", "--iters", "1", "--warmup", "0").Out);
        Assert.Equal("cpu", line[0].GetProperty("backend").GetString());
        _cli.Fails(["bench", "--backend", "cpu", "--device", "1"], "device");
        _cli.Fails(["bench", "--backend", "ilgpu-cpu", "--device", "99"], "99");
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
