using System.Diagnostics;
using System.Net.Http.Json;
using AlertNet.Alerts;
using Dapper;
using NpgsqlTypes;

namespace AlertNet.Benchmarks.Phases;

/// <summary>a. Fan-out of 100k recipients by AlertNet's DispatchAlertJob, against a raw binary COPY of the same rows.</summary>
/// <remarks>Triggered through the real API and timed on the database's clock (the fan-out transaction from start
/// to commit), so whatever DispatchAlertJob does around it (it now also starts sending at once) is left out
/// without the benchmark having to copy its SQL. The alert is cancelled as soon as it has fanned out: its
/// 100k sends are phase b's business.</remarks>
internal static class FanOutPhase
{
    private const string Phase = "a";

    public static async Task RunAsync(BenchContext bench, CancellationToken cancellationToken)
    {
        // Warm-up on the 10-subscriber group: JIT, Dapper's mapping and the plan cache are first-call costs, not fan-out.
        await FanOutAndCancelAsync(bench, BenchContext.UrgentGroup, cancellationToken);

        var waits = WaitSampler.Start(bench.Db);
        var cpu = CpuMeter.Take();
        var (alertId, fanOut, sinceTrigger) = await FanOutAndCancelAsync(bench, "default", cancellationToken);
        var others = CpuMeter.Measure(cpu, CpuMeter.Take());
        var profile = await waits.StopAsync();
        await waits.DisposeAsync();
        bench.Report.Note(Phase, $"fan-out transaction {Format.Seconds(fanOut)}; trigger → fan-out committed {Format.Seconds(sinceTrigger)} " +
            "(with the Hangfire pickup); then cancelled");
        bench.Report.Note(Phase, $"trigger to cancelled (the fan-out, then the first sends): {profile}");
        bench.Report.Note(Phase, $"trigger to cancelled: {others.Text}");

        int recipients;
        TimeSpan copy;
        try
        {
            (recipients, copy) = await CopyBaselineAsync(bench, alertId, cancellationToken);
        }
        finally
        {
            await DeleteAlertAsync(bench, alertId, CancellationToken.None);
        }

        await bench.Database.VacuumAnalyzeAsync(["deliveries", "alerts"], cancellationToken);

        var ratio = fanOut / copy;
        bench.Report.Add(new Figure(Phase, $"fan-out, {Format.Count(recipients)} recipients (DispatchAlertJob's transaction)",
            Format.Seconds(fanOut), "≤ 2 s", fanOut <= TimeSpan.FromSeconds(2),
            Diagnosis.Limit(profile, others.OthersPercent,
                "The job's one INSERT … SELECT joins memberships and subscribers, groups and de-duplicates them (per person, " +
                "by blind index), checks opt_outs, and for every row checks two foreign keys and maintains four indexes, in " +
                "one transaction on one core.")));
        bench.Report.Add(new Figure(Phase, "binary COPY of the same rows into a scratch table (baseline)", Format.Seconds(copy), "—", null));
        bench.Report.Add(new Figure(Phase, "fan-out ÷ COPY", Format.Ratio(ratio), "≤ 3×", ratio <= 3,
            "COPY skips the join, the grouping and de-duplication, the opt-out check and the foreign-key triggers (two per " +
            "row): those are what the ratio measures. Skipping the de-duplication when it cannot matter (one target group, " +
            "one channel) would move it. TODO(lead): confirm with EXPLAIN (ANALYZE, BUFFERS)."));
    }

    /// <summary>Triggers an urgent alert to a group, waits for its fan-out to commit, cancels it, and waits until
    /// nothing of it is still sending.</summary>
    private static async Task<(long AlertId, TimeSpan FanOut, TimeSpan SinceTrigger)> FanOutAndCancelAsync(BenchContext bench, string group,
        CancellationToken cancellationToken)
    {
        var triggered = Stopwatch.GetTimestamp();
        var alertId = await bench.Api.TriggerAsync(AlertType.Urgent, group, "Fan-out benchmark: agents seen at 5th and Main.", cancellationToken);
        var (fanOut, sinceTrigger) = await AlertProgress.WaitForFanOutAsync(bench.Db, alertId, triggered, cancellationToken);
        // 409 when it already finished (the 10-person warm-up may): either way nothing more will be sent.
        using (await bench.Api.Http.PostAsJsonAsync($"/api/alerts/{alertId}/cancel", new { }, cancellationToken))
        {
        }

        while (await AlertProgress.StateAsync(bench.Db, alertId, cancellationToken) is not ("cancelled" or "done"))
        {
            await Task.Delay(50, cancellationToken);
        }

        // Sends already in flight finish and get their callbacks; then the next measurement starts clean.
        await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken);
        await bench.Emulator.WaitForCallbacksAsync(TimeSpan.FromMinutes(1), cancellationToken);
        await bench.Emulator.ResetAsync(cancellationToken);
        return (alertId, fanOut, sinceTrigger);
    }

    public static async Task DeleteAlertAsync(BenchContext bench, long alertId, CancellationToken cancellationToken)
    {
        await using var connection = await bench.Db.OpenConnectionAsync(cancellationToken);
        await connection.ExecuteAsync(new CommandDefinition(
            "DELETE FROM alerts WHERE id = @alertId", new { alertId }, cancellationToken: cancellationToken, commandTimeout: 600));
    }

    private static async Task<(int Rows, TimeSpan Elapsed)> CopyBaselineAsync(BenchContext bench, long alertId, CancellationToken cancellationToken)
    {
        await using var connection = await bench.Db.OpenConnectionAsync(cancellationToken);
        var rows = (await connection.QueryAsync<(long AlertId, long SubscriberId, string Channel, string Language)>(new CommandDefinition(
            "SELECT alert_id, subscriber_id, channel, language FROM deliveries WHERE alert_id = @alertId",
            new { alertId }, cancellationToken: cancellationToken))).ToList();
        await connection.ExecuteAsync(new CommandDefinition(
            "DROP TABLE IF EXISTS bench_copy_baseline; CREATE TABLE bench_copy_baseline (LIKE deliveries INCLUDING ALL)",
            cancellationToken: cancellationToken));
        try
        {
            var started = Stopwatch.GetTimestamp();
            await using (var copy = await connection.BeginBinaryImportAsync(
                             "COPY bench_copy_baseline (alert_id, subscriber_id, channel, language) FROM STDIN (FORMAT BINARY)", cancellationToken))
            {
                foreach (var row in rows)
                {
                    await copy.StartRowAsync(cancellationToken);
                    await copy.WriteAsync(row.AlertId, NpgsqlDbType.Bigint, cancellationToken);
                    await copy.WriteAsync(row.SubscriberId, NpgsqlDbType.Bigint, cancellationToken);
                    await copy.WriteAsync(row.Channel, NpgsqlDbType.Text, cancellationToken);
                    await copy.WriteAsync(row.Language, NpgsqlDbType.Text, cancellationToken);
                }

                await copy.CompleteAsync(cancellationToken);
            }

            return (rows.Count, Stopwatch.GetElapsedTime(started));
        }
        finally
        {
            await connection.ExecuteAsync("DROP TABLE IF EXISTS bench_copy_baseline");
        }
    }
}
