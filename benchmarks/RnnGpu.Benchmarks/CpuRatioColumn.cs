using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;

namespace RnnGpu.Benchmarks;

/// <summary>
/// Mean time over the CPU back end's mean for the same method and the same other parameters: the CPU
/// is the baseline of every back end. BenchmarkDotNet's own `Baseline = true` ratio compares methods,
/// not values of a parameter, and the back end is a parameter here (so each class runs on whatever
/// back ends are present), hence this column.
/// </summary>
public sealed class CpuRatioColumn : IColumn
{
    private const string BackendParameter = "Backend";

    public string Id => nameof(CpuRatioColumn);
    public string ColumnName => "vs CPU";
    public bool AlwaysShow => true;
    public ColumnCategory Category => ColumnCategory.Custom;
    public int PriorityInCategory => 1;
    public bool IsNumeric => true;
    public UnitType UnitType => UnitType.Dimensionless;
    public string Legend => "Mean time over the CPU back end's mean for the same method and parameters (CPU = 1.00)";

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase)
    {
        if (summary[benchmarkCase]?.ResultStatistics is not { } stats) return "-";
        var cpu = summary.BenchmarksCases.FirstOrDefault(c => IsCpuTwin(c, benchmarkCase));
        if (cpu is null || summary[cpu]?.ResultStatistics is not { } cpuStats) return "-";
        return (stats.Mean / cpuStats.Mean).ToString("F2");
    }

    /// <summary>The CPU case of the same method, job and parameters as <paramref name="of"/>.</summary>
    private static bool IsCpuTwin(BenchmarkCase candidate, BenchmarkCase of) =>
        candidate.Descriptor.Equals(of.Descriptor) && candidate.Job.DisplayInfo == of.Job.DisplayInfo
        && candidate.Parameters.Items.Any(p => p.Name == BackendParameter)
        && candidate.Parameters.Items.All(p => p.Name == BackendParameter
            ? Equals(p.Value, BenchBackends.Cpu)
            : Equals(p.Value, of.Parameters[p.Name]));

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style) => GetValue(summary, benchmarkCase);
    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;
    public bool IsAvailable(Summary summary) => true;
}
