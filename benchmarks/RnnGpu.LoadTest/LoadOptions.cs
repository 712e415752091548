using System.Globalization;

namespace RnnGpu.LoadTest;

/// <summary>The command line: --name value pairs, each with a default that finishes in about a minute on 2 cores.</summary>
public sealed record LoadOptions
{
    public int Clients { get; init; } = 16;
    public int Requests { get; init; } = 4000;

    /// <summary>Requests sent the same way before the timed ones, untimed.</summary>
    public int Warmup { get; init; } = 2000;
    public int Distinct { get; init; } = 64;
    public int MinSteps { get; init; } = 8;
    public int MaxSteps { get; init; } = 32;
    public int Input { get; init; } = 16;
    public int Hidden { get; init; } = 128;
    public int Layers { get; init; } = 2;
    public int Output { get; init; } = 8;
    public int MaxBatch { get; init; } = 16;
    public int MaxWaitUs { get; init; } = 1000;
    public int Executors { get; init; }
    public string Backend { get; init; } = "cpu";
    public int CapSeconds { get; init; } = 120;

    /// <summary>
    /// The transports to load, in turn (comma-separated): "http": POST /v1/predict (JSON) over a loopback socket; "grpc": the
    /// gRPC Predict call (packed floats, HTTP/2) over a loopback socket; "direct": RnnInference.PredictAsync in-process.
    /// </summary>
    public string[] Transports { get; init; } = ["http"];

    /// <summary>"predict": one request per sequence (the transports above); "streams": stateful streams (<see cref="StreamLoad"/>).</summary>
    public string Mode { get; init; } = "predict";

    /// <summary>Streams mode: where the streams live, in turn: "local" (one process) and/or "cluster" (Orleans silos over Redis).</summary>
    public string[] StreamTransports { get; init; } = ["local"];

    public int Silos { get; init; } = 1;
    public string Redis { get; init; } = "127.0.0.1:6379";

    /// <summary>Streams mode: steps per call, and calls per stream.</summary>
    public int Chunk { get; init; } = 4;
    public int Chunks { get; init; } = 50;

    /// <summary>Rounds of every transport's runs, interleaved; the summary takes each run's median over them.</summary>
    public int Rounds { get; init; } = 1;

    public const string Usage =
        "usage: RnnGpu.LoadTest [--clients 16] [--requests 4000] [--warmup 2000] [--distinct 64] [--steps 8-32 | --steps N] [--input 16] [--hidden 128]\n" +
        "       [--layers 2] [--output 8] [--max-batch 16] [--max-wait-us 1000] [--executors 0] [--backend cpu] [--cap-seconds 120]\n" +
        "       [--transport http|grpc|direct[,...]] [--rounds 1]\n" +
        "       --mode streams [--streams local|cluster[,...]] [--silos 1] [--redis 127.0.0.1:6379] [--chunk 4] [--chunks 50]";

    public static LoadOptions Parse(string[] args)
    {
        var o = new LoadOptions();
        if (args.Length % 2 != 0) throw new ArgumentException("every option takes a value");
        for (int i = 0; i < args.Length; i += 2)
        {
            string name = args[i], value = args[i + 1];
            o = name switch
            {
                "--clients" => o with { Clients = Positive(name, value) },
                "--requests" => o with { Requests = Positive(name, value) },
                "--warmup" => o with { Warmup = Int(name, value) },
                "--distinct" => o with { Distinct = Positive(name, value) },
                "--steps" => WithSteps(o, value),
                "--input" => o with { Input = Positive(name, value) },
                "--hidden" => o with { Hidden = Positive(name, value) },
                "--layers" => o with { Layers = Positive(name, value) },
                "--output" => o with { Output = Positive(name, value) },
                "--max-batch" => o with { MaxBatch = Positive(name, value) },
                "--max-wait-us" => o with { MaxWaitUs = Int(name, value) },
                "--executors" => o with { Executors = Int(name, value) },
                "--backend" => o with { Backend = value },
                "--cap-seconds" => o with { CapSeconds = Positive(name, value) },
                "--transport" => o with { Transports = ParseTransports(value) },
                "--rounds" => o with { Rounds = Positive(name, value) },
                "--mode" => o with { Mode = value is "predict" or "streams" ? value : throw new ArgumentException($"--mode '{value}': expected predict or streams") },
                "--streams" => o with { StreamTransports = value.Split(',', StringSplitOptions.TrimEntries).Select(t => t is "local" or "cluster" ? t : throw new ArgumentException($"--streams '{t}': expected local or cluster")).Distinct().ToArray() },
                "--silos" => o with { Silos = Positive(name, value) },
                "--redis" => o with { Redis = value },
                "--chunk" => o with { Chunk = Positive(name, value) },
                "--chunks" => o with { Chunks = Positive(name, value) },
                _ => throw new ArgumentException($"unknown option '{name}'"),
            };
        }
        return o;
    }

    private static string[] ParseTransports(string value)
    {
        var transports = value.Split(',', StringSplitOptions.TrimEntries);
        foreach (var t in transports)
            if (t is not ("http" or "grpc" or "direct")) throw new ArgumentException($"--transport '{t}': expected http, grpc or direct");
        return transports.Distinct().ToArray();
    }

    private static LoadOptions WithSteps(LoadOptions o, string value)
    {
        var parts = value.Split('-');
        int min = Positive("--steps", parts[0]), max = parts.Length == 2 ? Positive("--steps", parts[1]) : min;
        if (parts.Length > 2 || max < min) throw new ArgumentException($"--steps '{value}': expected N or MIN-MAX");
        return o with { MinSteps = min, MaxSteps = max };
    }

    private static int Positive(string name, string value)
    {
        int v = Int(name, value);
        return v >= 1 ? v : throw new ArgumentException($"{name} must be at least 1, got {v}");
    }

    private static int Int(string name, string value) =>
        int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out int v) ? v : throw new ArgumentException($"{name} '{value}' is not a whole number");
}
