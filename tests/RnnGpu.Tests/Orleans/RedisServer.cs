using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using RnnGpu.Tests.Support;
using StackExchange.Redis;

namespace RnnGpu.Tests.Orleans;

/// <summary>
/// A real Redis server (Debian's redis-server) on a free loopback port, started for a test class and stopped after it,
/// without persistence to disk. Where redis-server is missing (scripts/setup.sh installs it), the tests that need it fail
/// in CI and skip elsewhere, naming what to install.
/// </summary>
public sealed class RedisServer : IDisposable
{
    private const string Binary = "/usr/bin/redis-server";
    private readonly Process? _process;
    private ConnectionMultiplexer? _connection;

    public RedisServer()
    {
        if (!File.Exists(Binary)) return;
        Port = FreePort();
        _process = Process.Start(new ProcessStartInfo(Binary,
            ["--port", Port.ToString(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--protected-mode", "yes"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        })!;
        _process.OutputDataReceived += (_, _) => { };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (true)
        {
            try
            {
                _connection = ConnectionMultiplexer.Connect($"{ConnectionString},connectTimeout=500");
                _connection.GetDatabase().Ping();
                return;
            }
            catch (RedisConnectionException) when (DateTime.UtcNow < deadline && !_process.HasExited)
            {
                Thread.Sleep(100);
            }
        }
    }

    public int Port { get; }

    public string ConnectionString => $"127.0.0.1:{Port}";

    /// <summary>A connection of the tests' own, to look at and damage what the silos stored.</summary>
    public IDatabase Database => Connection.GetDatabase();

    public IServer Server => Connection.GetServer(ConnectionString);

    private ConnectionMultiplexer Connection => _connection ?? throw new InvalidOperationException("redis-server is not running");

    /// <summary>Skips (or in CI fails) a test when this machine has no redis-server.</summary>
    public void Require()
    {
        if (_process is not null) return;
        string why = $"no {Binary}: scripts/setup.sh installs Debian's redis-server for the cluster tests";
        if (TestBackends.IsCI) Assert.Fail(why);
        Assert.Skip(why);
    }

    public void Dispose()
    {
        _connection?.Dispose();
        if (_process is { HasExited: false })
        {
            _process.Kill();
            _process.WaitForExit(5000);
        }
        _process?.Dispose();
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
