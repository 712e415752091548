using RnnGpu.IO;
using Xunit;

namespace RnnGpu.Tests.Cli;

/// <summary>What one in-process `rnngpu` run printed and returned.</summary>
public sealed record CliResult(int ExitCode, string Out, string Err)
{
    public override string ToString() => $"exit {ExitCode}\n--- stdout ---\n{Out}\n--- stderr ---\n{Err}";
}

/// <summary>Runs the `rnngpu` command in-process, in a temp directory of its own, with output captured.</summary>
public sealed class CliHarness : IDisposable
{
    public CliHarness()
    {
        Dir = Path.Combine(Path.GetTempPath(), "rnngpu-cli-tests-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Dir);
    }

    public string Dir { get; }

    public string File(string name) => Path.Combine(Dir, name);

    public CliResult Run(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int code = RnnGpu.Cli.Program.Run(args, stdout, stderr);
        return new CliResult(code, stdout.ToString(), stderr.ToString());
    }

    /// <summary>Runs and asserts success, showing the output when it fails.</summary>
    public CliResult Ok(params string[] args)
    {
        var result = Run(args);
        Assert.True(result.ExitCode == 0, $"rnngpu {string.Join(' ', args)}\n{result}");
        Assert.DoesNotContain("error:", result.Err);
        return result;
    }

    /// <summary>Runs and asserts failure with an `error:` line containing every fragment, and no stack trace.</summary>
    public CliResult Fails(string[] args, params string[] fragments)
    {
        var result = Run(args);
        Assert.True(result.ExitCode != 0, $"rnngpu {string.Join(' ', args)} should fail\n{result}");
        Assert.Contains("error: ", result.Err);
        foreach (var f in fragments)
            Assert.True(result.Err.Contains(f, StringComparison.OrdinalIgnoreCase), $"stderr should mention '{f}'\n{result}");
        Assert.DoesNotContain("   at ", result.Err);
        Assert.DoesNotContain("Exception", result.Err);
        return result;
    }

    public string WriteNpy(string name, NpyArray array)
    {
        string path = File(name);
        array.Write(path);
        return path;
    }

    public string WriteText(string name, string text)
    {
        string path = File(name);
        System.IO.File.WriteAllText(path, text);
        return path;
    }

    public void Dispose()
    {
        try { Directory.Delete(Dir, recursive: true); }
        catch (IOException) { }
    }
}
