using AlertNet.Benchmarks.Phases;
using AlertNet.Infrastructure.Database;
using AlertNet.Privacy;

namespace AlertNet.Benchmarks;

/// <summary>The benchmark run: sets everything up, runs the phases a to f in order, each under its own
/// timeout, writes the report, and tears everything down (database, processes) whatever happened.</summary>
internal static class Bench
{
    private const string AllPhases = "abcdef";

    public static async Task<int> RunAsync(string[] args)
    {
        var quick = args.Contains("--quick");
        var scale = new BenchScale(quick);
        var repoRoot = FindRepoRoot();
        var phasesIndex = Array.IndexOf(args, "--phases");
        // For investigating one figure: e.g. --phases b runs setup and phase b only.
        var phases = phasesIndex >= 0 && phasesIndex + 1 < args.Length ? args[phasesIndex + 1] : AllPhases;
        var outIndex = Array.IndexOf(args, "--out");
        // A quick or partial run must not overwrite the committed full-scale figures.
        var output = outIndex >= 0 && outIndex + 1 < args.Length
            ? Path.GetFullPath(args[outIndex + 1])
            : Path.Combine(repoRoot, quick ? ".local/bench/benchmarks-quick.md"
                : phases != AllPhases ? ".local/bench/benchmarks-partial.md"
                : "docs/benchmarks.md");

        using var overall = new CancellationTokenSource(scale.OverallTimeout);
        Console.CancelKeyPress += (_, e) =>
        {
            e.Cancel = true;
            overall.Cancel();
        };
        var cancellationToken = overall.Token;

        var server = Environment.GetEnvironmentVariable("ALERTNET_BENCH_PG") is { Length: > 0 } configured ? configured : DatabaseSetup.LocalDefault;
        Console.WriteLine($"AlertNet benchmark, scale {scale.Name}; everything on 127.0.0.1; stops by itself within {scale.OverallTimeout.TotalMinutes:0} min");

        await using var database = await BenchDatabase.CreateAsync(server, cancellationToken);
        var machine = MachineInfo.Read(await database.ServerVersionAsync(cancellationToken));
        Console.WriteLine($"machine: {machine.CpuModel}, {machine.Cores} cores, {machine.MemoryGiB:0.0} GiB, PostgreSQL {machine.PostgresVersion}, {machine.DotnetVersion}");
        var report = new Report(scale, machine);

        var account = FakeTwilioAccount.Create();
        await using var emulator = await EmulatorProcess.StartAsync(account, cancellationToken);
        report.Note("setup", $"emulator process {emulator.ProcessId} at {emulator.BaseUrl}; clock check passed (round trip {Format.Ms((await emulator.CheckClockAsync(cancellationToken)).TotalMilliseconds)})");

        var encryptionKey = KeyFile.NewKey();
        var blindIndexKey = KeyFile.NewKey();
        var config = new AlertNetConfig(database.ConnectionString, encryptionKey, blindIndexKey, account, emulator.BaseUrl);
        await using var alertNet = await InProcessAlertNet.StartAsync(config, cancellationToken);
        var token = await alertNet.CreateOrganizerTokenAsync(cancellationToken);
        using var api = new AlertNetApi(alertNet.BaseUrl, token);

        var protector = new PersonalDataProtector(Convert.FromBase64String(encryptionKey), Convert.FromBase64String(blindIndexKey));
        var defaultGroupId = await database.DefaultGroupIdAsync(cancellationToken);
        var loaded = await database.AddSubscribersAsync(protector, 0, scale.Recipients, defaultGroupId, cancellationToken);
        report.Note("setup", $"{Format.Count(scale.Recipients)} subscribers loaded (COPY, memberships, VACUUM ANALYZE) in {Format.Seconds(loaded)}");
        await database.CreateGroupOfFirstSubscribersAsync(BenchContext.UrgentGroup, BenchScale.UrgentGroupSize, cancellationToken);

        var bench = new BenchContext
        {
            Scale = scale,
            Database = database,
            Protector = protector,
            Emulator = emulator,
            Config = config,
            AlertNet = alertNet,
            Api = api,
            OrganizerToken = token,
            DefaultGroupId = defaultGroupId,
            Report = report,
            RepoRoot = repoRoot,
        };

        (string Title, TimeSpan Timeout, Func<BenchContext, CancellationToken, Task> Run)[] all =
        [
            ("a. fan-out", scale.PhaseTimeout, FanOutPhase.RunAsync),
            ("b. end-to-end dispatch", scale.PhaseTimeout, DispatchPhase.RunAsync),
            ("c. urgent latency", scale.PhaseTimeout, UrgentLatencyPhase.RunAsync),
            ("d. status callbacks", scale.PhaseTimeout, CallbackPhase.RunAsync),
            ("e. throttle", scale.PhaseTimeout, ThrottlePhase.RunAsync),
            ($"f. {Format.Count(scale.Million)} recipients", scale.MillionTimeout, MillionPhase.RunAsync),
        ];
        foreach (var (title, timeout, run) in all.Where(p => phases.Contains(p.Title[0], StringComparison.Ordinal)))
        {
            await RunPhaseAsync(bench, title, timeout, run, cancellationToken);
        }

        report.Write(output);
        return 0;
    }

    /// <summary>Runs a phase under its own timeout. A phase that times out or fails is reported as such and the
    /// run goes on, so that one stuck figure does not cost the others.</summary>
    private static async Task RunPhaseAsync(BenchContext bench, string title, TimeSpan timeout,
        Func<BenchContext, CancellationToken, Task> phase, CancellationToken cancellationToken)
    {
        // Other work on the machine (a test run, a build) changes every figure: the load average says whether there was any.
        var load = File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Trim() : "?";
        Console.WriteLine($"== {title} (timeout {timeout.TotalMinutes:0} min; load average before: {load})");
        bench.Report.Note(title[..1], $"load average before the phase: {load}");
        using var phaseTimeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        phaseTimeout.CancelAfter(timeout);
        var cpu = CpuMeter.Take();
        try
        {
            await phase(bench, phaseTimeout.Token);
            bench.Report.Note(title[..1], CpuMeter.Describe(cpu, CpuMeter.Take()));
        }
        catch (OperationCanceledException) when (phaseTimeout.IsCancellationRequested)
        {
            Unfinished(cancellationToken.IsCancellationRequested
                ? "not finished: the whole run's time limit was reached"
                : $"not finished: timed out after {timeout.TotalMinutes:0} min");
        }
        catch (Exception error) when (error is not OutOfMemoryException)
        {
            Unfinished($"failed: {error.GetType().Name}: {error.Message}");
        }

        // The table must show every phase: one that stopped before its first figure gets a row saying so.
        void Unfinished(string why)
        {
            var phase = title[..1];
            bench.Report.Note(phase, why.ToUpperInvariant()[..1] + why[1..]);
            if (bench.Report.FigureCount(phase) == 0)
            {
                bench.Report.Add(new Figure(phase, title[3..], why, "see the run log", null));
            }
        }
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
