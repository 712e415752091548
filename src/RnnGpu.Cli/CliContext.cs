using RnnGpu.Accelerators;
using Spectre.Console;

namespace RnnGpu.Cli;

/// <summary>Where a command writes: results to <see cref="Out"/>, notices and errors to <see cref="Err"/>.</summary>
public sealed class CliContext
{
    public CliContext(TextWriter stdout, TextWriter stderr, bool terminal)
    {
        Out = stdout;
        Err = stderr;
        IsTerminal = terminal;
        Console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(stdout),
            Ansi = terminal ? AnsiSupport.Detect : AnsiSupport.No,
            ColorSystem = terminal ? ColorSystemSupport.Detect : ColorSystemSupport.NoColors,
            Interactive = terminal ? InteractionSupport.Detect : InteractionSupport.No,
        });
    }

    public TextWriter Out { get; }
    public TextWriter Err { get; }

    /// <summary>True when stdout is a terminal: live progress bars; otherwise plain periodic lines.</summary>
    public bool IsTerminal { get; }

    /// <summary>Spectre console over <see cref="Out"/> for tables and progress bars.</summary>
    public IAnsiConsole Console { get; }

    /// <summary>Opens the chosen back end (device, CPU threads), printing auto's fallback notice to stderr.</summary>
    public Accelerator OpenBackend(BackendChoice choice) =>
        Backends.Open(choice.Name, notice => Err.WriteLine($"note: {notice}"), choice.Device, choice.Threads);
}

/// <summary>Options that contradict each other or the files they name; exits with the usage code 2.</summary>
public sealed class UsageException(string message) : RnnGpuException(message);
