using BenchmarkDotNet.Running;

// dotnet run -c Release --project benchmarks/RnnGpu.Benchmarks -- --filter '*'
// Classes: GemmBenchmarks, RnnBenchmarks (fused step, forward, training step), StreamBenchmarks, QuantizedProductBenchmarks
// (the int8 and bf16 products, one thread); e.g. --filter '*Stream*'.
// On a machine without the .NET SDK (the GPU machine), add --inProcess.
BenchmarkSwitcher.FromAssembly(typeof(RnnGpu.Benchmarks.GemmBenchmarks).Assembly).Run(args, new RnnGpu.Benchmarks.BenchConfig());
