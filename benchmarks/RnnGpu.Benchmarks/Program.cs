using BenchmarkDotNet.Running;

// dotnet run -c Release --project benchmarks/RnnGpu.Benchmarks -- --filter '*'
// On a machine without the .NET SDK (the GPU machine), add --inProcess.
BenchmarkSwitcher.FromAssembly(typeof(RnnGpu.Benchmarks.GemmBenchmarks).Assembly).Run(args, new RnnGpu.Benchmarks.BenchConfig());
