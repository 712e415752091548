using RnnGpu.Accelerators;

namespace RnnGpu.Tests.Support;

/// <summary>
/// The back ends every shared test runs on. Each test class takes a backend name as theory data,
/// so a test is written once and runs on every back end this build has.
/// </summary>
public static class TestBackends
{
    public static TheoryData<string> Names => new("cpu");

    public static Accelerator Open(string name) => Backends.Open(name);
}
