using System.CommandLine;
using System.CommandLine.Invocation;
using System.Text;
using System.Text.RegularExpressions;
using RnnGpu.Cli.Commands;

namespace RnnGpu.Cli;

/// <summary>The `rnngpu` command: train, run, sample, bench, devices.</summary>
public static class Program
{
    /// <summary>Exit code of a run that failed on bad input: a file, a value, a missing device.</summary>
    public const int ErrorExitCode = 1;

    /// <summary>Exit code of a command line that does not parse or names contradicting options.</summary>
    public const int UsageExitCode = 2;

    public static int Main(string[] args)
    {
        Console.OutputEncoding = new UTF8Encoding(false);
        bool terminal = !Console.IsOutputRedirected;
        return Run(args, Console.Out, Console.Error, terminal);
    }

    /// <summary>
    /// Runs one command line with its output captured: stdout gets results, tables and progress
    /// (plain lines unless <paramref name="terminal"/>), stderr gets notices and `error: ...` lines.
    /// Returns the exit code: 0 success, 1 an error in the input, 2 a usage error.
    /// </summary>
    public static int Run(string[] args, TextWriter stdout, TextWriter stderr, bool terminal = false)
    {
        ArgumentNullException.ThrowIfNull(args);
        var context = new CliContext(stdout, stderr, terminal);
        var root = BuildRootCommand(context);
        var parseResult = root.Parse(args);
        if (parseResult.Action is ParseErrorAction)
        {
            foreach (var error in parseResult.Errors) stderr.WriteLine($"error: {Friendly(error.Message)}");
            string command = string.Join(' ', parseResult.CommandResult.Command.Name == root.Name
                ? ["rnngpu"]
                : new[] { "rnngpu", parseResult.CommandResult.Command.Name });
            stderr.WriteLine($"run '{command} --help' for usage");
            return UsageExitCode;
        }

        var invocation = new InvocationConfiguration
        {
            Output = stdout,
            Error = stderr,
            EnableDefaultExceptionHandler = false,
        };
        try
        {
            return parseResult.Invoke(invocation);
        }
        catch (UsageException e)
        {
            stderr.WriteLine($"error: {e.Message}");
            return UsageExitCode;
        }
        catch (NonFiniteException e)
        {
            stderr.WriteLine($"error: {e.Message} (try a lower --lr, or --clip)");
            return ErrorExitCode;
        }
        catch (RnnGpuException e)
        {
            stderr.WriteLine($"error: {e.Message}");
            return ErrorExitCode;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            stderr.WriteLine($"error: {e.Message}");
            return ErrorExitCode;
        }
    }

    /// <summary>System.CommandLine's conversion errors name CLR types; say what was expected instead.</summary>
    private static string Friendly(string message)
    {
        var m = Regex.Match(message, @"^Cannot parse argument '(.*)' for option '(.*)' as expected type '(.*)'\.$", RegexOptions.Singleline);
        if (!m.Success) return message;
        string type = m.Groups[3].Value;
        string expected = type.Contains("Int32") ? "a whole number" : type.Contains("Single") || type.Contains("Double") ? "a number" : $"a {type}";
        return $"{m.Groups[2].Value}: '{m.Groups[1].Value}' is not {expected}";
    }

    public static RootCommand BuildRootCommand(CliContext context)
    {
        var root = new RootCommand("rnngpu: train and run Elman RNNs on the CPU, OpenCL or CUDA") { HelpName = "rnngpu" };
        root.Add(TrainCommand.Create(context));
        root.Add(RunCommand.Create(context));
        root.Add(SampleCommand.Create(context));
        root.Add(EvalCommand.Create(context));
        root.Add(BenchCommand.Create(context));
        root.Add(DevicesCommand.Create(context));
        return root;
    }
}
