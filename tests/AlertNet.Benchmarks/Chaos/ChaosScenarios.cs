using System.Diagnostics;
using System.Net.Http.Json;
using AlertNet.Alerts;
using Dapper;
using Npgsql;

namespace AlertNet.Benchmarks.Chaos;

/// <summary>One scenario: a title, its key for --scenarios, and how it runs.</summary>
internal sealed record ChaosScenario(char Key, string Title, Func<ChaosContext, CancellationToken, Task<ChaosResult>> RunAsync);

/// <summary>The scenarios. Each starts a fresh emulator and a fresh deployment (web + 3 workers), triggers one
/// urgent alert to every subscriber, makes its trouble while the alert is going out, waits until every delivery
/// is settled in AlertNet, and then asks the emulator what each recipient received.</summary>
internal static class ChaosScenarios
{
    public const string AllKeys = "kpfo";

    /// <summary>The emulator's faults in the third scenario, as percentages of create-message requests.</summary>
    public const string Faults = "429=10,500=2,timeout=1,reset=1";

    public const int FaultSeed = 20260;

    /// <summary>AlertNet's Twilio request timeout in the fault scenario: the "timeout after accept" requests are held
    /// until AlertNet gives up, so this is how long each of them costs.</summary>
    public const string FaultRequestTimeoutSeconds = "3";

    public static readonly ChaosScenario[] All =
    [
        new('k', "k. worker processes killed (SIGKILL) at random instants, start-up included", KillWorkersAsync),
        new('p', "p. PostgreSQL restarted mid-alert", RestartPostgresAsync),
        new('f', $"f. emulator faults ({Faults})", FaultsAsync),
        new('o', "o. carrier unreachable mid-broadcast", OutageAsync),
    ];

    /// <summary>Seed of the kill scenario's draws (which worker, when): the same run picks the same way.</summary>
    public const int KillSeed = 20261;

    private static Task<ChaosResult> KillWorkersAsync(ChaosContext context, CancellationToken cancellationToken) =>
        RunAlertAsync(context, All[0].Title, faults: null,
            new Dictionary<string, string?> { ["Delivery:SegmentsPerSecond"] = context.Scale.SegmentsPerSecond },
            async (rig, stop) =>
            {
                var random = new Random(KillSeed);
                var kills = 0;
                var startupKills = 0;
                var maxPause = 2 * ChaosScale.KillInterval.TotalSeconds;
                try
                {
                    while (!stop.IsCancellationRequested)
                    {
                        // A random instant: anywhere from 0.2 s to twice the mean interval after the last kill, so kills land
                        // in start-up (migrations, Hangfire's server start, registering recurring jobs) as well as mid-batch.
                        await Task.Delay(TimeSpan.FromSeconds(0.2 + random.NextDouble() * (maxPause - 0.2)), stop);
                        // Two times in five the worker launched last, most often still starting; otherwise any of them.
                        var index = random.Next(5) < 2 ? rig.Deployment.LastLaunched : random.Next(ChaosDeployment.WorkerCount);
                        if (await rig.Deployment.KillAndReplaceAsync(index))
                        {
                            startupKills++;
                        }

                        kills++;
                        if (kills == 3)
                        {
                            // A second urgent alert while workers keep dying: the one the held-out run found waiting.
                            await rig.Alerts.TriggerAsync("[chaos] Update: agents now at 6th and Main.", CancellationToken.None);
                        }
                    }
                }
                catch (OperationCanceledException) when (stop.IsCancellationRequested)
                {
                }

                // Every last replacement must come up by itself: a start-up step that waits on a dead process's lock fails here.
                var waited = Stopwatch.GetTimestamp();
                await rig.Deployment.WhenRestartedAsync();
                var failures = rig.Deployment.StartFailures;
                if (failures.Count > 0)
                {
                    throw new InvalidOperationException($"{failures.Count} workers exited by themselves while starting: {string.Join("; ", failures)}");
                }

                var starts = rig.Deployment.StartTimes;
                return $"{kills} worker processes SIGKILLed at random instants (one every 0.2 to {maxPause:0} s, seed {KillSeed}), "
                    + $"{startupKills} of them while still starting, each replaced at once; a second urgent alert triggered after the third kill; "
                    + $"no worker failed to start; {starts.Count} starts took {Format.Seconds(starts.Min())} to {Format.Seconds(starts.Max())} "
                    + $"(the last replacements were up {Format.Seconds(Stopwatch.GetElapsedTime(waited))} after the alerts settled)";
            },
            cancellationToken, alertCount: 2);

    private static Task<ChaosResult> RestartPostgresAsync(ChaosContext context, CancellationToken cancellationToken) =>
        RunAlertAsync(context, All[1].Title, faults: null,
            new Dictionary<string, string?> { ["Delivery:SegmentsPerSecond"] = context.Scale.SegmentsPerSecond },
            async (rig, stop) =>
            {
                var emulator = rig.Emulator;
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
            (_, _) => Task.FromResult($"Twilio request timeout {FaultRequestTimeoutSeconds} s; fault seed {FaultSeed}"),
            cancellationToken);

    /// <summary>The carrier unreachable (connections refused, those open dropped) for <see cref="ChaosScale.Outage"/> once a
    /// third of the messages are out, every process alive throughout; then the rest must go out once, by themselves.</summary>
    private static Task<ChaosResult> OutageAsync(ChaosContext context, CancellationToken cancellationToken) =>
        RunAlertAsync(context, $"o. carrier unreachable for {context.Scale.Outage.TotalSeconds:0} s mid-broadcast", faults: null,
            new Dictionary<string, string?> { ["Delivery:SegmentsPerSecond"] = context.Scale.SegmentsPerSecond },
            async (rig, stop) =>
            {
                var proxy = rig.Proxy!;
                var third = context.Scale.Recipients / 3;
                while ((await rig.Emulator.StatsAsync(stop)).CreateRequests < third)
                {
                    await Task.Delay(50, stop);
                }

                var sentBefore = (await rig.Emulator.StatsAsync(stop)).CreateRequests;
                proxy.Cut();
                var down = Stopwatch.GetTimestamp();
                Console.WriteLine($"   carrier unreachable after {Format.Count(sentBefore)} messages; {proxy.Dropped} connections dropped");
                // 15 s: on a loaded machine (load average 60) /readyz once took longer than 5 s during the outage.
                using var web = new HttpClient { BaseAddress = new Uri(rig.Deployment.Web.BaseUrl), Timeout = TimeSpan.FromSeconds(15) };
                string? provider = null;
                try
                {
                    while (Stopwatch.GetElapsedTime(down) < context.Scale.Outage)
                    {
                        // Not cancellable by the alert's end: the carrier stays down for the whole outage.
                        await Task.Delay(1000, CancellationToken.None);
                        if (rig.Deployment.WorkersExitedByThemselves > 0 || rig.Deployment.Web.HasExited)
                        {
                            rig.Failures.Add($"a process exited {Format.Seconds(Stopwatch.GetElapsedTime(down))} into the outage");
                            break;
                        }

                        if (provider is null && Stopwatch.GetElapsedTime(down) > context.Scale.Outage / 2)
                        {
                            provider = await ProviderStatusAsync(web);
                        }
                    }
                }
                finally
                {
                    proxy.Restore();
                    rig.TroubleEndedAt = Stopwatch.GetTimestamp();
                }

                var sentDuring = (await rig.Emulator.StatsAsync(CancellationToken.None)).CreateRequests - sentBefore;
                var resumed = Stopwatch.GetTimestamp();
                while ((await rig.Emulator.StatsAsync(CancellationToken.None)).CreateRequests <= sentBefore + sentDuring
                       && Stopwatch.GetElapsedTime(resumed) < TimeSpan.FromSeconds(60) && !stop.IsCancellationRequested)
                {
                    await Task.Delay(50, CancellationToken.None);
                }

                return $"carrier unreachable (connections refused, {proxy.Dropped} open ones dropped) for {Format.Seconds(Stopwatch.GetElapsedTime(down, resumed))} "
                    + $"after {Format.Count(sentBefore)} messages ({Format.Count(sentDuring)} more requests, already under way, reached it as the "
                    + "connections dropped); /readyz said provider "
                    + $"\"{provider ?? "?"}\" during the outage; sending resumed {Format.Seconds(Stopwatch.GetElapsedTime(resumed))} after it came back; "
                    + (rig.Failures.Count == 0 ? "every AlertNet process stayed up through it" : string.Join("; ", rig.Failures));
            },
            cancellationToken, throughProxy: true);

    private static async Task<string> ProviderStatusAsync(HttpClient web)
    {
        try
        {
            using var response = await web.GetAsync("/readyz");
            var body = await response.Content.ReadFromJsonAsync<System.Text.Json.JsonElement>();
            return body.TryGetProperty("provider", out var provider) ? provider.GetString() ?? "?" : $"(HTTP {(int)response.StatusCode})";
        }
        catch (Exception error) when (error is HttpRequestException or TaskCanceledException or System.Text.Json.JsonException)
        {
            return $"(no answer: {error.GetType().Name})";
        }
    }

    private static async Task<ChaosResult> RunAlertAsync(
        ChaosContext context,
        string title,
        string? faults,
        Dictionary<string, string?> settings,
        Func<ChaosRig, CancellationToken, Task<string>> trouble,
        CancellationToken cancellationToken,
        int alertCount = 1,
        bool throughProxy = false)
    {
        await using var database = await BenchDatabase.CreateAsync(context.Server, cancellationToken);
        var account = FakeTwilioAccount.Create();
        await using var emulator = await EmulatorProcess.StartAsync(account, cancellationToken, faults, FaultSeed);
        await using var proxy = throughProxy ? new CarrierOutageProxy(new Uri(emulator.BaseUrl).Port) : null;
        var config = new AlertNetConfig(database.ConnectionString, context.EncryptionKey, context.BlindIndexKey, account,
            proxy?.BaseUrl ?? emulator.BaseUrl);
        await using var deployment = await ChaosDeployment.StartAsync(config, context.RepoRoot, settings, cancellationToken);
        await context.LoadSubscribersAsync(database, cancellationToken);
        var token = await ChaosDeployment.CreateOrganizerTokenAsync(database, cancellationToken);
        using var api = new AlertNetApi(deployment.Web.BaseUrl, token);
        Console.WriteLine($"   web process and {ChaosDeployment.WorkerCount} worker processes up; emulator at {emulator.BaseUrl}");

        var alerts = new ChaosAlerts(api);
        await alerts.TriggerAsync("[chaos] Agents seen at 5th and Main. You may remain silent.", cancellationToken);
        using var stopTrouble = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var rig = new ChaosRig(deployment, emulator, alerts, proxy);
        var troubleTask = trouble(rig, stopTrouble.Token);
        var times = new List<TimeSpan>();
        for (var i = 0; i < alertCount; i++)
        {
            // The trouble triggers any further alert; a trouble that failed stops the wait.
            while (alerts.Triggered.Count <= i)
            {
                if (troubleTask.IsCompleted)
                {
                    await troubleTask;
                    throw new InvalidOperationException("The scenario ended before triggering all its alerts.");
                }

                await Task.Delay(100, cancellationToken);
            }

            var (alertId, triggered) = alerts.Triggered[i];
            times.Add(await WaitUntilSettledAsync(database.Db, alertId, context.Scale.Recipients, triggered, cancellationToken));
        }

        await stopTrouble.CancelAsync();
        var troubleNote = await troubleTask;

        // Anything still on its way (a late resend would be a duplicate) has a moment to arrive before counting.
        var counts = await SettledCountsAsync(emulator, cancellationToken);
        var stats = await emulator.StatsAsync(cancellationToken);
        var states = new Dictionary<string, long>();
        foreach (var (alertId, _) in alerts.Triggered)
        {
            foreach (var (state, count) in await StatesAsync(database.Db, alertId, cancellationToken))
            {
                states[state] = states.GetValueOrDefault(state) + count;
            }
        }

        if (rig.TroubleEndedAt is not null)
        {
            rig.Recovery = rig.SettledAfterTrouble(times[^1], alerts.Triggered[^1].TriggeredAt);
            troubleNote += $"; every delivery settled {Format.Seconds(rig.Recovery.Value)} after the carrier came back";
        }

        if (deployment.WorkersExitedByThemselves > 0 || deployment.Web.HasExited)
        {
            rig.Failures.Add($"{deployment.WorkersExitedByThemselves} worker processes{(deployment.Web.HasExited ? " and the web process" : "")} exited by themselves");
        }

        if (alertCount > 1)
        {
            troubleNote += "; each alert reached everyone in " + string.Join(" and ", times.Select(Format.Seconds)) + " from its trigger";
        }

        return ChaosResult.From(title, context.Numbers, counts, times.Max(), troubleNote, stats, states, alertCount) with
        {
            Failure = rig.Failures.Count == 0 ? null : string.Join("; ", rig.Failures),
            Recovery = rig.Recovery,
        };
    }

    /// <summary>Until every delivery of the alert is settled in AlertNet's database (the alert done and each
    /// delivery delivered, failed or otherwise final). Errors while PostgreSQL is down are waited out.</summary>
    private static async Task<TimeSpan> WaitUntilSettledAsync(NpgsqlDataSource db, long alertId, int recipients, long triggered,
        CancellationToken cancellationToken)
    {
        // An alert triggered earlier (the second of two) reports from the next round 10 s on, not every 10 s since its trigger.
        var nextProgress = TimeSpan.FromSeconds(10 * (Math.Floor(Stopwatch.GetElapsedTime(triggered).TotalSeconds / 10) + 1));
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

/// <summary>What a scenario's trouble works with.</summary>
internal sealed record ChaosRig(ChaosDeployment Deployment, EmulatorProcess Emulator, ChaosAlerts Alerts, CarrierOutageProxy? Proxy)
{
    /// <summary>When the trouble ended (the carrier came back), for the time to recover.</summary>
    public long? TroubleEndedAt { get; set; }

    /// <summary>From the end of the trouble until every delivery had settled.</summary>
    public TimeSpan? Recovery { get; set; }

    /// <summary>What the trouble found wrong besides lost and duplicated messages (a process that exited).</summary>
    public List<string> Failures { get; } = [];

    /// <summary>From the end of the trouble until the alert triggered at <paramref name="triggeredAt"/> had settled, which
    /// took <paramref name="settledIn"/> from its trigger.</summary>
    public TimeSpan SettledAfterTrouble(TimeSpan settledIn, long triggeredAt) =>
        TroubleEndedAt is { } ended ? settledIn - Stopwatch.GetElapsedTime(triggeredAt, ended) : TimeSpan.Zero;
}

/// <summary>The alerts a scenario triggered, with when (the trouble may trigger more while it runs).</summary>
internal sealed class ChaosAlerts(AlertNetApi api)
{
    private readonly List<(long Id, long TriggeredAt)> _triggered = [];

    public IReadOnlyList<(long Id, long TriggeredAt)> Triggered
    {
        get
        {
            lock (_triggered)
            {
                return [.. _triggered];
            }
        }
    }

    public async Task<long> TriggerAsync(string body, CancellationToken cancellationToken)
    {
        var at = Stopwatch.GetTimestamp();
        var id = await api.TriggerAsync(AlertType.Urgent, "default", body, cancellationToken);
        lock (_triggered)
        {
            _triggered.Add((id, at));
        }

        return id;
    }
}
