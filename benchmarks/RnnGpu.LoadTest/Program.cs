using RnnGpu.Accelerators;
using RnnGpu.IO;
using RnnGpu.LoadTest;
using RnnGpu.Model;

// Serves a model made here with RnnGpu.Server on loopback sockets (JSON over HTTP/1.1, or gRPC over HTTP/2) or through
// RnnInference in-process (--transport direct), and loads each transport with dynamic batching on and off, --rounds
// times interleaved, checking every response against the same request sent alone. Exit code 1 on a
// differing response or a run past its time cap, 2 on a usage error.
LoadOptions o;
try
{
    o = LoadOptions.Parse(args);
}
catch (ArgumentException e)
{
    Console.Error.WriteLine($"error: {e.Message}\n{LoadOptions.Usage}");
    return 2;
}

string dir = Directory.CreateTempSubdirectory("rnngpu-load-").FullName;
try
{
    string checkpoint = Path.Combine(dir, "model.safetensors");
    using (var acc = Backends.Open("cpu"))
    using (var model = RnnModel.Create(new RnnConfig(o.Input, o.Hidden, o.Layers, Activation.Tanh, o.Output), acc, seed: 1))
        Checkpoint.Save(model, checkpoint);

    if (o.Mode == "streams")
    {
        var results = new List<StreamLoad.Result>();
        for (int round = 1; round <= o.Rounds; round++)
            foreach (string where in o.StreamTransports)
            {
                Console.Error.WriteLine($"round {round}/{o.Rounds}, {where} streams: {o.Clients} streams x {o.Chunks} calls ...");
                results.Add(await StreamLoad.RunAsync(where, o, checkpoint));
            }
        Console.WriteLine(StreamLoad.Markdown(o, results));
        return results.All(r => r.Mismatches == 0) ? 0 : 1;
    }

    var work = new Workload(o, seed: 2);
    using var batches = new BatchSizeListener();
    var runs = new List<RunResult>();
    for (int round = 1; round <= o.Rounds; round++)
        foreach (string transport in o.Transports)
            foreach (var (name, maxBatch) in new[] { ("batching on", o.MaxBatch), ("batching off", 1) })
            {
                Console.Error.WriteLine($"round {round}/{o.Rounds}, {transport}, {name}: {o.Requests} requests from {o.Clients} clients ...");
                runs.Add(transport == "direct"
                    ? await DirectRun.RunAsync(name, maxBatch, o, checkpoint, work, batches)
                    : await LoadRun.RunAsync(transport, name, maxBatch, o, checkpoint, work, batches));
            }
    Console.WriteLine(Report.Markdown(o, runs));

    // Each transport's single-request answers are the same in every run (their forms differ between transports).
    bool sameAlone = runs.GroupBy(r => r.Transport).All(g => g.All(r => r.Alone.SequenceEqual(g.First().Alone)));
    int mismatches = runs.Sum(r => r.Mismatches);
    Console.WriteLine(sameAlone
        ? "Single-request results are identical in every run of each transport, batching on and off."
        : "**Single-request results differ between runs.**");
    if (mismatches == 0 && sameAlone) return 0;
    Console.Error.WriteLine($"error: {mismatches} responses differ from the same request sent alone");
    return 1;
}
catch (TimeoutException e)
{
    Console.Error.WriteLine($"error: {e.Message}");
    return 1;
}
finally
{
    Directory.Delete(dir, recursive: true);
}
