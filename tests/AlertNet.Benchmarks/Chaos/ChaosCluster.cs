using System.Diagnostics;

namespace AlertNet.Benchmarks.Chaos;

/// <summary>The PostgreSQL cluster the chaos run uses, stopped and started with infra/postgres.sh. infra/chaos.sh
/// gives the run a cluster of its own (ALERTNET_PG_PORT, ALERTNET_PG_DATA), so a restart disturbs nothing else.</summary>
internal sealed class ChaosCluster(string repoRoot)
{
    public Task StopAsync(CancellationToken cancellationToken) => RunAsync("stop", cancellationToken);

    public Task StartAsync(CancellationToken cancellationToken) => RunAsync("start", cancellationToken);

    public Task EnsureRunningAsync(CancellationToken cancellationToken) => RunAsync("start", cancellationToken);

    private async Task RunAsync(string command, CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo("bash", [Path.Combine(repoRoot, "infra", "postgres.sh"), command])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var process = Process.Start(start) ?? throw new InvalidOperationException("Could not run infra/postgres.sh.");
        var output = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var errors = process.StandardError.ReadToEndAsync(cancellationToken);
        await process.WaitForExitAsync(cancellationToken);
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"infra/postgres.sh {command} failed: {await errors}");
        }

        Console.WriteLine($"   postgres.sh {command}: {(await output).Trim()}");
    }
}
