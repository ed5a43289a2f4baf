using System.Diagnostics;
using AlertNet.Infrastructure.Database;
using AlertNet.Privacy;

namespace AlertNet.Benchmarks.Chaos;

/// <summary>
/// The chaos command (infra/chaos.sh): AlertNet deployed as separate processes on this machine (one web, three
/// workers, one PostgreSQL) sends an urgent alert while something goes wrong, and the Twilio emulator, in a process
/// of its own, counts what each recipient received. Each scenario reports lost and duplicated messages and the
/// time to completion; the target is 0 and 0.
/// </summary>
internal static class ChaosRun
{
    public static async Task<int> RunAsync(string[] args)
    {
        var quick = args.Contains("--quick");
        var scale = new ChaosScale(quick);
        var repoRoot = FindRepoRoot();
        var onlyIndex = Array.IndexOf(args, "--scenarios");
        var only = onlyIndex >= 0 && onlyIndex + 1 < args.Length ? args[onlyIndex + 1] : ChaosScenarios.AllKeys;
        var outIndex = Array.IndexOf(args, "--out");
        var output = outIndex >= 0 && outIndex + 1 < args.Length
            ? Path.GetFullPath(args[outIndex + 1])
            : Path.Combine(repoRoot, quick || only != ChaosScenarios.AllKeys ? ".local/chaos/reliability-quick.md" : "docs/reliability.md");

        using var overall = new CancellationTokenSource(scale.OverallTimeout);
        Console.CancelKeyPress += (_, e) =>
        {
            e.Cancel = true;
            overall.Cancel();
        };
        var cancellationToken = overall.Token;

        var server = Environment.GetEnvironmentVariable("ALERTNET_CHAOS_PG") is { Length: > 0 } configured ? configured : DatabaseSetup.LocalDefault;
        var cluster = new ChaosCluster(repoRoot);
        Console.WriteLine($"AlertNet chaos run, {scale.Name}: {Format.Count(scale.Recipients)} recipients per scenario; everything on 127.0.0.1; "
            + $"stops by itself within {scale.OverallTimeout.TotalMinutes:0} min");

        MachineInfo machine;
        await using (var probe = await BenchDatabase.CreateAsync(server, cancellationToken))
        {
            machine = MachineInfo.Read(await probe.ServerVersionAsync(cancellationToken));
        }

        Console.WriteLine($"machine: {machine.CpuModel}, {machine.Cores} cores, PostgreSQL {machine.PostgresVersion}, {machine.DotnetVersion}");

        var encryptionKey = KeyFile.NewKey();
        var blindIndexKey = KeyFile.NewKey();
        var protector = new PersonalDataProtector(Convert.FromBase64String(encryptionKey), Convert.FromBase64String(blindIndexKey));
        var context = new ChaosContext(scale, server, cluster, repoRoot, encryptionKey, blindIndexKey, protector);

        var results = new List<ChaosResult>();
        var started = Stopwatch.GetTimestamp();
        foreach (var scenario in ChaosScenarios.All.Where(s => only.Contains(s.Key, StringComparison.Ordinal)))
        {
            var load = File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Trim() : "?";
            Console.WriteLine($"== {scenario.Title} (load average before: {load})");
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(scale.ScenarioTimeout);
            ChaosResult result;
            try
            {
                result = await scenario.RunAsync(context, timeout.Token);
            }
            catch (Exception error) when (error is not OutOfMemoryException)
            {
                var why = error is OperationCanceledException && timeout.IsCancellationRequested
                    ? $"not finished within {scale.ScenarioTimeout.TotalMinutes:0} min"
                    : $"failed: {error.GetType().Name}: {error.Message}";
                Console.WriteLine($"   {why}");
                result = ChaosResult.Unfinished(scenario.Title, scale.Recipients, why);
                // A scenario that stopped half-way may have left PostgreSQL down.
                await cluster.EnsureRunningAsync(CancellationToken.None);
            }

            result = result with { LoadBefore = load };
            Console.WriteLine($"   {result.Summary}");
            results.Add(result);
        }

        ChaosReport.Write(output, scale, machine, results, Stopwatch.GetElapsedTime(started));
        Console.WriteLine($"report: {output}");
        return results.All(r => r.Met) ? 0 : 1;
    }

    private static string FindRepoRoot()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "AlertNet.sln")))
        {
            directory = directory.Parent;
        }

        return directory?.FullName ?? throw new InvalidOperationException("Cannot find the repository root (AlertNet.sln).");
    }
}

/// <summary>How big a chaos run is: full (20,000 recipients a scenario) or <c>--quick</c> (500, throttled so that the
/// trouble still lands in the middle of the alert).</summary>
internal sealed record ChaosScale(bool Quick)
{
    public string Name => Quick ? "quick" : "full";

    public int Recipients => Quick ? 500 : 20_000;

    /// <summary>The sender's rate during the worker-kill and restart scenarios: unthrottled at full scale, where
    /// 20,000 messages take long enough; 100 segments/s at quick scale, so 500 take about 5 s.</summary>
    public string SegmentsPerSecond => Quick ? "100" : "0";

    public static TimeSpan KillInterval => TimeSpan.FromSeconds(3);

    /// <summary>How long the carrier is unreachable in the outage scenario.</summary>
    public TimeSpan Outage => Quick ? TimeSpan.FromSeconds(20) : TimeSpan.FromMinutes(2);

    /// <summary>Full scale: 12 min, since the kill scenario sends two 20,000-recipient alerts while workers die at random
    /// instants (one run with 6 min, at a load average of 60 to 97 from other work, had the first alert two thirds out).</summary>
    public TimeSpan ScenarioTimeout => Quick ? TimeSpan.FromMinutes(3) : TimeSpan.FromMinutes(12);

    public TimeSpan OverallTimeout => Quick ? TimeSpan.FromMinutes(14) : TimeSpan.FromMinutes(40);
}
