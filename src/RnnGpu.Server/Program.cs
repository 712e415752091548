using RnnGpu;
using RnnGpu.Server;

// Configuration: appsettings.json, then environment variables, then the command line,
// e.g. --RnnServing:CheckpointPath=model.safetensors --urls=http://127.0.0.1:5088
try
{
    ServerApp.Build(args).Run();
    return 0;
}
catch (RnnGpuException e)
{
    // A missing or bad checkpoint, an unknown back end, a bad setting: one line, as the rnngpu command says it.
    Console.Error.WriteLine($"error: {e.Message}");
    return 1;
}

/// <summary>The entry point's class, public so that WebApplicationFactory&lt;Program&gt; can host the app.</summary>
public partial class Program;
