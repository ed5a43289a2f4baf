using System.Diagnostics;
using System.Net.Http.Json;
using AlertNet.Alerts;
using AlertNet.Infrastructure.Twilio;
using Twilio.Clients;
using Twilio.Http;
using Twilio.Rest.Api.V2010.Account;
using Twilio.Types;
using HttpClient = System.Net.Http.HttpClient;

namespace AlertNet.Benchmarks.Phases;

/// <summary>b. End-to-end dispatch of 100k messages through AlertNet, against a raw Twilio SDK loop on the same emulator.</summary>
internal static class DispatchPhase
{
    private const string Phase = "b";

    public static async Task RunAsync(BenchContext bench, CancellationToken cancellationToken)
    {
        var raw = await RawSdkLoopAsync(bench, cancellationToken);
        bench.Report.Add(new Figure(Phase, $"raw Twilio SDK loop, {BenchScale.RawSdkConcurrency} concurrent CreateAsync (baseline)",
            Format.Rate(raw, "msg/s"), "—", null));

        foreach (var (type, lane) in new[] { (AlertType.Urgent, "urgent lane"), (AlertType.KnowYourRights, "bulk lane") })
        {
            await bench.Emulator.ResetAsync(cancellationToken);
            var cpu = CpuMeter.Take();
            await using var waits = WaitSampler.Start(bench.Db);
            var triggered = Stopwatch.GetTimestamp();
            var alertId = await bench.Api.TriggerAsync(type, "default", "Know your rights: you may remain silent. Reply HELP for help.",
                cancellationToken);
            var dispatch = await AlertProgress.WaitUntilDoneAsync(bench.Db, alertId, triggered,
                async elapsed => Console.WriteLine($"    {Format.Seconds(elapsed)}: {Format.Count((await bench.Emulator.StatsAsync(cancellationToken)).CreateRequests)} sent"),
                cancellationToken);
            var usage = CpuMeter.Measure(cpu, CpuMeter.Take());
            var profile = await waits.StopAsync();
            bench.Report.Note(Phase, $"{lane}, trigger to done: {usage.Text}");
            bench.Report.Note(Phase, $"{lane}, trigger to done: {profile}");
            if (type == AlertType.Urgent)
            {
                bench.Urgent100k = dispatch;
            }

            var stats = await bench.Emulator.StatsAsync(cancellationToken);
            bench.Report.Note(Phase, $"{lane}: trigger → fanned out (API, Hangfire pickup included) {Format.Seconds(dispatch.FannedOutAfter)}, " +
                $"→ done {Format.Seconds(dispatch.DoneAfter)}; emulator got {Format.Count(stats.CreateRequests)} create requests for " +
                $"{Format.Count(dispatch.Recipients)} recipients{(stats.CreateRequests == dispatch.Recipients ? "" : " (MISMATCH)")}");
            var rate = dispatch.MessagesPerSecond;
            bench.Report.Add(new Figure(Phase, $"dispatch, {Format.Count(dispatch.Recipients)} recipients, {lane}", Format.Rate(rate, "msg/s") +
                $" ({Format.Seconds(dispatch.DoneAfter)})", "≥ 5,000 msg/s", rate >= 5000,
                Diagnosis.Limit(profile, usage.OthersPercent, DispatchLimit(type))));
            bench.Report.Add(new Figure(Phase, $"dispatch ÷ raw SDK loop, {lane}", Format.Ratio(rate / raw), "≥ 0.25×", rate / raw >= 0.25,
                $"as for the {lane} msg/s above: the raw loop makes the same HTTP calls without any database work."));

            var drained = await bench.Emulator.WaitForCallbacksAsync(bench.Scale.PhaseTimeout, cancellationToken);
            var counts = await AlertProgress.CountsAsync(bench.Db, alertId, cancellationToken);
            bench.Report.Note(Phase, $"{lane}: status callbacks " + (drained is { } d ? $"all in {Format.Seconds(d)} after done" : "NOT all in") +
                "; deliveries by state: " + string.Join(", ", counts.OrderBy(c => c.Key).Select(c => $"{c.Key} {Format.Count(c.Value)}")));
            if (type == AlertType.Urgent)
            {
                await FollowUpAsync(bench, alertId, cancellationToken);
            }
        }
    }

    /// <summary>A correction to the urgent alert just sent: it goes to exactly that alert's recipients (not fanned out
    /// over groups). Both are timed the same way: from the alert's creation until 95 % of its messages were accepted by the
    /// provider (deliveries.accepted_at).</summary>
    private static async Task FollowUpAsync(BenchContext bench, long originalId, CancellationToken cancellationToken)
    {
        await bench.Emulator.ResetAsync(cancellationToken);
        var triggered = Stopwatch.GetTimestamp();
        using var response = await bench.Api.Http.PostAsJsonAsync($"/api/alerts/{originalId}/follow-ups", new
        {
            type = AlertType.Correction,
            bodies = new Dictionary<string, string> { ["en"] = "Correction: agents at 6th, not 5th.", ["es"] = "Corrección: agentes en la 6, no en la 5." },
        }, cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"POST follow-ups answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync(cancellationToken)}");
        }

        var followUpId = (await response.Content.ReadFromJsonAsync<System.Text.Json.JsonElement>(cancellationToken)).GetProperty("id").GetInt64();
        var followUp = await AlertProgress.WaitUntilDoneAsync(bench.Db, followUpId, triggered, null, cancellationToken);
        var original = await TimeTo95PercentAsync(bench, originalId, cancellationToken);
        var corrected = await TimeTo95PercentAsync(bench, followUpId, cancellationToken);
        bench.Report.Note(Phase, $"follow-up: {Format.Count(followUp.Recipients)} recipients (the original's), fanned out " +
            $"{Format.Seconds(followUp.FannedOutAfter)} after the request, done {Format.Seconds(followUp.DoneAfter)}");
        bench.Report.Add(new Figure(Phase, $"correction to the urgent alert's {Format.Count(followUp.Recipients)} recipients, time to 95 %",
            $"{Format.Seconds(corrected)} (the original: {Format.Seconds(original)})", "—", null));
        bench.Report.Add(new Figure(Phase, "correction ÷ original, time to 95 % of the original's recipients",
            Format.Ratio(corrected.TotalSeconds / original.TotalSeconds), "≤ 1.5×", corrected.TotalSeconds <= 1.5 * original.TotalSeconds,
            "the follow-up's fan-out reads the original's deliveries (follow_up_recipients) instead of the groups; sending is the same."));
        await bench.Emulator.WaitForCallbacksAsync(bench.Scale.PhaseTimeout, cancellationToken);
    }

    private static async Task<TimeSpan> TimeTo95PercentAsync(BenchContext bench, long alertId, CancellationToken cancellationToken)
    {
        await using var connection = await bench.Db.OpenConnectionAsync(cancellationToken);
        await using var command = new Npgsql.NpgsqlCommand(
            """
            SELECT extract(epoch FROM percentile_disc(0.95) WITHIN GROUP (ORDER BY d.accepted_at) - min(a.created_at))::float8
            FROM deliveries d JOIN alerts a ON a.id = d.alert_id
            WHERE d.alert_id = $1 AND d.accepted_at IS NOT NULL
            """, connection);
        command.Parameters.AddWithValue(alertId);
        return TimeSpan.FromSeconds((double)(await command.ExecuteScalarAsync(cancellationToken))!);
    }

    /// <summary>The ceiling: the same SDK, the same base-URL handler and connection settings as AlertNet's
    /// TwilioSetup, the same emulator process, with nothing around the calls. No StatusCallback, so the
    /// emulator posts no callbacks: this is the carrier API's own rate.</summary>
    private static async Task<double> RawSdkLoopAsync(BenchContext bench, CancellationToken cancellationToken)
    {
        using var http = new HttpClient(new TwilioApiBaseUrlHandler(new Uri(bench.Emulator.BaseUrl))
        {
            InnerHandler = new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5), MaxConnectionsPerServer = 64 },
        })
        { Timeout = TimeSpan.FromSeconds(15) };
        var twilio = new TwilioRestClient(bench.Config.Twilio.AccountSid, bench.Config.Twilio.AuthToken, httpClient: new SystemNetHttpClient(http));

        await SendAsync(twilio, bench, 2_000, cancellationToken);
        await bench.Emulator.ResetAsync(cancellationToken);
        var count = bench.Scale.Recipients;
        var cpu = CpuMeter.Take();
        var started = Stopwatch.GetTimestamp();
        await SendAsync(twilio, bench, count, cancellationToken);
        var elapsed = Stopwatch.GetElapsedTime(started);
        bench.Report.Note(Phase, $"raw SDK loop: {CpuMeter.Describe(cpu, CpuMeter.Take())}");
        var stats = await bench.Emulator.StatsAsync(cancellationToken);
        bench.Report.Note(Phase, $"raw SDK loop: {Format.Count(count)} messages in {Format.Seconds(elapsed)}; emulator counted {Format.Count(stats.CreateRequests)}");
        await bench.Emulator.ResetAsync(cancellationToken);
        return count / elapsed.TotalSeconds;
    }

    private static Task SendAsync(ITwilioRestClient twilio, BenchContext bench, int count, CancellationToken cancellationToken)
    {
        var next = -1;
        var from = new PhoneNumber(bench.Config.Twilio.From);
        return Task.WhenAll(Enumerable.Range(0, BenchScale.RawSdkConcurrency).Select(async _ =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < count)
            {
                cancellationToken.ThrowIfCancellationRequested();
                await MessageResource.CreateAsync(new CreateMessageOptions(new PhoneNumber(BenchDatabase.PhoneNumber(i)))
                {
                    From = from,
                    Body = "Know your rights: you may remain silent. Reply HELP for help.",
                }, twilio);
            }
        }));
    }

    private static string DispatchLimit(string type) =>
        "Not the carrier: the raw SDK loop gets far more from the same emulator. Each message is still several row " +
        "updates (the claim, the SID, the 'sent' and 'delivered' callbacks; SIDs and callbacks in group commits that " +
        "do not wait for the WAL flush), and sends in flight are capped by " +
        (type == AlertType.Urgent
            ? "the urgent server's 12 Hangfire workers × Delivery:ConcurrentRequests. "
            : "the bulk server's workers (max(2, cores) = 2 here) × Delivery:ConcurrentRequests. ") +
        "On 2 cores AlertNet, the emulator and PostgreSQL share the CPU (see the CPU split above).";
}
