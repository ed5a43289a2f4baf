using System.Diagnostics;
using AlertNet.Alerts;
using Dapper;
using Npgsql;

namespace AlertNet.Benchmarks.Chaos;

/// <summary>One scenario: a title, its key for --scenarios, and how it runs.</summary>
internal sealed record ChaosScenario(char Key, string Title, Func<ChaosContext, CancellationToken, Task<ChaosResult>> RunAsync);

/// <summary>The three scenarios. Each starts a fresh emulator and a fresh deployment (web + 3 workers), triggers one
/// urgent alert to every subscriber, makes its trouble while the alert is going out, waits until every delivery
/// is settled in AlertNet, and then asks the emulator what each recipient received.</summary>
internal static class ChaosScenarios
{
    public const string AllKeys = "kpf";

    /// <summary>The emulator's faults in the third scenario, as percentages of create-message requests.</summary>
    public const string Faults = "429=10,500=2,timeout=1,reset=1";

    public const int FaultSeed = 20260;

    /// <summary>AlertNet's Twilio request timeout in the fault scenario: the "timeout after accept" requests are held
    /// until AlertNet gives up, so this is how long each of them costs.</summary>
    public const string FaultRequestTimeoutSeconds = "3";

    public static readonly ChaosScenario[] All =
    [
        new('k', "k. worker processes killed (SIGKILL) every few seconds", KillWorkersAsync),
        new('p', "p. PostgreSQL restarted mid-alert", RestartPostgresAsync),
        new('f', $"f. emulator faults ({Faults})", FaultsAsync),
    ];

    private static Task<ChaosResult> KillWorkersAsync(ChaosContext context, CancellationToken cancellationToken) =>
        RunAlertAsync(context, All[0].Title, faults: null,
            new Dictionary<string, string?> { ["Delivery:SegmentsPerSecond"] = context.Scale.SegmentsPerSecond },
            async (deployment, _, stop) =>
            {
                using var timer = new PeriodicTimer(ChaosScale.KillInterval);
                var kills = 0;
                try
                {
                    while (await timer.WaitForNextTickAsync(stop))
                    {
                        await deployment.KillAndRestartWorkerAsync(kills % ChaosDeployment.WorkerCount, minimumUptime: ChaosScale.KillInterval);
                        kills++;
                        Console.WriteLine($"   killed worker {(kills - 1) % ChaosDeployment.WorkerCount + 1} and started its replacement ({kills} so far)");
                    }
                }
                catch (OperationCanceledException) when (stop.IsCancellationRequested)
                {
                }

                await deployment.WhenRestartedAsync();
                return $"{kills} worker processes SIGKILLed (one every {ChaosScale.KillInterval.TotalSeconds:0} s, in turn, each after at least "
                    + $"{ChaosScale.KillInterval.TotalSeconds:0} s of work) and restarted";
            },
            cancellationToken);

    private static Task<ChaosResult> RestartPostgresAsync(ChaosContext context, CancellationToken cancellationToken) =>
        RunAlertAsync(context, All[1].Title, faults: null,
            new Dictionary<string, string?> { ["Delivery:SegmentsPerSecond"] = context.Scale.SegmentsPerSecond },
            async (_, emulator, stop) =>
            {
                var quarter = context.Scale.Recipients / 4;
                while ((await emulator.StatsAsync(stop)).CreateRequests < quarter)
                {
                    await Task.Delay(50, stop);
                }

                var sentBefore = (await emulator.StatsAsync(stop)).CreateRequests;
                var down = Stopwatch.GetTimestamp();
                // Not cancellable: PostgreSQL must come back up whatever happens.
                await context.Cluster.StopAsync(CancellationToken.None);
                await Task.Delay(TimeSpan.FromSeconds(3), CancellationToken.None);
                await context.Cluster.StartAsync(CancellationToken.None);
                return $"PostgreSQL stopped (pg_ctl stop -m fast) after {Format.Count(sentBefore)} messages had been sent, "
                    + $"started again {Format.Seconds(Stopwatch.GetElapsedTime(down))} later";
            },
            cancellationToken);

    private static Task<ChaosResult> FaultsAsync(ChaosContext context, CancellationToken cancellationToken) =>
        RunAlertAsync(context, All[2].Title, Faults,
            new Dictionary<string, string?> { ["Twilio:RequestTimeoutSeconds"] = FaultRequestTimeoutSeconds },
            (_, _, _) => Task.FromResult($"Twilio request timeout {FaultRequestTimeoutSeconds} s; fault seed {FaultSeed}"),
            cancellationToken);

    private static async Task<ChaosResult> RunAlertAsync(
        ChaosContext context,
        string title,
        string? faults,
        Dictionary<string, string?> settings,
        Func<ChaosDeployment, EmulatorProcess, CancellationToken, Task<string>> trouble,
        CancellationToken cancellationToken)
    {
        await using var database = await BenchDatabase.CreateAsync(context.Server, cancellationToken);
        var account = FakeTwilioAccount.Create();
        await using var emulator = await EmulatorProcess.StartAsync(account, cancellationToken, faults, FaultSeed);
        var config = new AlertNetConfig(database.ConnectionString, context.EncryptionKey, context.BlindIndexKey, account, emulator.BaseUrl);
        await using var deployment = await ChaosDeployment.StartAsync(config, context.RepoRoot, settings, cancellationToken);
        await context.LoadSubscribersAsync(database, cancellationToken);
        var token = await ChaosDeployment.CreateOrganizerTokenAsync(database, cancellationToken);
        using var api = new AlertNetApi(deployment.Web.BaseUrl, token);
        Console.WriteLine($"   web process and {ChaosDeployment.WorkerCount} worker processes up; emulator at {emulator.BaseUrl}");

        var triggered = Stopwatch.GetTimestamp();
        var alertId = await api.TriggerAsync(AlertType.Urgent, "default", "[chaos] Agents seen at 5th and Main. You may remain silent.",
            cancellationToken);
        using var stopTrouble = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var troubleTask = trouble(deployment, emulator, stopTrouble.Token);
        var completed = await WaitUntilSettledAsync(database.Db, alertId, context.Scale.Recipients, triggered, cancellationToken);
        await stopTrouble.CancelAsync();
        var troubleNote = await troubleTask;

        // Anything still on its way (a late resend would be a duplicate) has a moment to arrive before counting.
        var counts = await SettledCountsAsync(emulator, cancellationToken);
        var stats = await emulator.StatsAsync(cancellationToken);
        var states = await StatesAsync(database.Db, alertId, cancellationToken);
        return ChaosResult.From(title, context.Numbers, counts, completed, troubleNote, stats, states);
    }

    /// <summary>Until every delivery of the alert is settled in AlertNet's database (the alert done and each
    /// delivery delivered, failed or otherwise final). Errors while PostgreSQL is down are waited out.</summary>
    private static async Task<TimeSpan> WaitUntilSettledAsync(NpgsqlDataSource db, long alertId, int recipients, long triggered,
        CancellationToken cancellationToken)
    {
        var nextProgress = TimeSpan.FromSeconds(10);
        while (true)
        {
            try
            {
                await using var connection = await db.OpenConnectionAsync(cancellationToken);
                var (state, settled) = await connection.QuerySingleAsync<(string, long)>(new CommandDefinition(
                    """
                    SELECT a.state,
                           (SELECT count(*) FROM deliveries d WHERE d.alert_id = a.id
                              AND d.state IN ('delivered', 'undelivered', 'failed', 'skipped', 'expired', 'cancelled'))
                    FROM alerts a WHERE a.id = @alertId
                    """,
                    new { alertId }, cancellationToken: cancellationToken));
                var elapsed = Stopwatch.GetElapsedTime(triggered);
                if (state == "done" && settled >= recipients)
                {
                    return elapsed;
                }

                if (elapsed >= nextProgress)
                {
                    nextProgress += TimeSpan.FromSeconds(10);
                    Console.WriteLine($"   {Format.Seconds(elapsed)}: alert {state}, {Format.Count(settled)} of {Format.Count(recipients)} settled");
                }
            }
            catch (NpgsqlException)
            {
                // PostgreSQL is restarting.
            }

            await Task.Delay(100, cancellationToken);
        }
    }

    private static async Task<Dictionary<string, int>> SettledCountsAsync(EmulatorProcess emulator, CancellationToken cancellationToken)
    {
        var counts = await emulator.RecipientCountsAsync(cancellationToken);
        var stableSince = Stopwatch.GetTimestamp();
        var deadline = Stopwatch.GetTimestamp();
        while (Stopwatch.GetElapsedTime(stableSince) < TimeSpan.FromSeconds(3) && Stopwatch.GetElapsedTime(deadline) < TimeSpan.FromSeconds(30))
        {
            await Task.Delay(250, cancellationToken);
            var next = await emulator.RecipientCountsAsync(cancellationToken);
            if (next.Values.Sum() != counts.Values.Sum())
            {
                stableSince = Stopwatch.GetTimestamp();
            }

            counts = next;
        }

        return counts;
    }

    private static async Task<Dictionary<string, long>> StatesAsync(NpgsqlDataSource db, long alertId, CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        var rows = await connection.QueryAsync<(string State, long Count)>(new CommandDefinition(
            "SELECT state, count(*) FROM deliveries WHERE alert_id = @alertId GROUP BY state", new { alertId },
            cancellationToken: cancellationToken));
        return rows.ToDictionary(r => r.State, r => r.Count);
    }
}
