using System.CommandLine;
using RnnGpu.Accelerators;
using Spectre.Console;

namespace RnnGpu.Cli.Commands;

/// <summary>`rnngpu devices`: a table of the accelerators found on this machine.</summary>
internal static class DevicesCommand
{
    public static Command Create(CliContext context)
    {
        var backend = CommonOptions.Backend();
        backend.Description = "List only this back end's devices (auto: all)";
        var command = new Command("devices", "List the accelerators found on this machine") { backend };
        command.SetAction(parseResult =>
        {
            string name = parseResult.GetValue(backend) ?? "auto";
            var devices = Backends.ListDevices()
                .Where(d => name == "auto" || d.Backend.Name().Equals(name, StringComparison.OrdinalIgnoreCase))
                .ToList();
            if (devices.Count == 0)
            {
                context.Out.WriteLine($"no {name} devices found");
                return 0;
            }
            var table = new Table().AddColumns("Backend", "Index", "Name").AddColumn(new TableColumn("Memory").RightAligned());
            foreach (var d in devices)
                table.AddRow(Markup.Escape(d.Backend.Name()), d.Index.ToString(), Markup.Escape(d.Name), FormatBytes(d.MemoryBytes));
            context.Console.Write(table);
            return 0;
        });
        return command;
    }

    internal static string FormatBytes(long bytes) => bytes switch
    {
        <= 0 => "-",
        >= 1L << 30 => $"{bytes / (double)(1L << 30):F1} GiB",
        >= 1L << 20 => $"{bytes / (double)(1L << 20):F0} MiB",
        _ => $"{bytes / 1024.0:F0} KiB",
    };
}
