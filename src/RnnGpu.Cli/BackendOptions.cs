using System.CommandLine;
using RnnGpu.Accelerators.Cpu;

namespace RnnGpu.Cli;

/// <summary>The back end a command runs on: its name, a device index within it, the CPU back end's threads.</summary>
public sealed record BackendChoice(string Name, int? Device = null, int? Threads = null);

/// <summary>The --backend, --device and --threads options of a command, read together.</summary>
internal sealed class BackendOptions
{
    public Option<string> Backend { get; } = CommonOptions.Backend();

    public Option<int?> Device { get; } = CommonOptions.Device();

    public Option<int?> Threads { get; } = new Option<int?>("--threads")
    {
        Description = $"Threads of the CPU back end, 1 to {CpuAccelerator.MaxThreads} (default: the cores this process may use, {CpuAccelerator.DefaultThreads} here)",
        HelpName = "N",
    }.Between(1, CpuAccelerator.MaxThreads);

    /// <summary>Adds the three options to <paramref name="command"/>.</summary>
    public void AddTo(Command command)
    {
        command.Options.Add(Backend);
        command.Options.Add(Device);
        command.Options.Add(Threads);
    }

    public BackendChoice Read(ParseResult result) => new(result.GetValue(Backend) ?? "auto", result.GetValue(Device), result.GetValue(Threads));
}
