using System.Diagnostics;
using AlertNet.Delivery;
using Dapper;
using Microsoft.Extensions.DependencyInjection;
using NpgsqlTypes;

namespace AlertNet.Benchmarks.Phases;

/// <summary>a. Fan-out of 100k recipients by AlertNet's DispatchAlertJob, against a raw binary COPY of the same rows.</summary>
internal static class FanOutPhase
{
    private const string Phase = "a";

    public static async Task RunAsync(BenchContext bench, CancellationToken cancellationToken)
    {
        // Warm-up on the 10-subscriber group: JIT, Dapper's mapping and the plan cache are first-call costs, not fan-out.
        var warmUp = await FanOutDirectlyAsync(bench, bench.UrgentGroupId, cancellationToken);
        await DeleteAlertAsync(bench, warmUp.AlertId, cancellationToken);

        var fanOut = await FanOutDirectlyAsync(bench, bench.DefaultGroupId, cancellationToken);
        TimeSpan copy;
        try
        {
            copy = await CopyBaselineAsync(bench, fanOut.AlertId, cancellationToken);
        }
        finally
        {
            // Never leave 100k pending rows behind: the sweeper would send them in the middle of the next phase.
            await DeleteAlertAsync(bench, fanOut.AlertId, CancellationToken.None);
        }

        await bench.Database.VacuumAnalyzeAsync(["deliveries", "alerts"], cancellationToken);

        var ratio = fanOut.Elapsed / copy;
        bench.Report.Add(new Figure(Phase, $"fan-out, {Format.Count(fanOut.Recipients)} recipients (DispatchAlertJob.RunAsync)",
            Format.Seconds(fanOut.Elapsed), "≤ 2 s", fanOut.Elapsed <= TimeSpan.FromSeconds(2),
            "the job's single INSERT … SELECT joins memberships and subscribers, de-duplicates (DISTINCT), checks opt_outs, " +
            "and for every row checks both foreign keys and maintains four indexes, in one transaction; PostgreSQL runs it on " +
            "one core. TODO(lead): confirm with EXPLAIN (ANALYZE, BUFFERS) on this machine."));
        bench.Report.Add(new Figure(Phase, "binary COPY of the same rows into a scratch table (baseline)", Format.Seconds(copy), "—", null));
        bench.Report.Add(new Figure(Phase, "fan-out ÷ COPY", Format.Ratio(ratio), "≤ 3×", ratio <= 3,
            "COPY skips the join, the DISTINCT, the opt-out check and the foreign-key triggers (two per row); those are what " +
            "the ratio measures. Dropping DISTINCT when the alert has one target group, or checking the subscriber " +
            "foreign key once per batch instead of per row, would move it. TODO(lead): confirm with EXPLAIN ANALYZE."));
    }

    /// <summary>Inserts an alert for a group and runs AlertNet's own dispatch job on it, without Hangfire.
    /// The alert ends in state 'sending' with every delivery pending: the caller deletes it or uses the rows.</summary>
    public static async Task<(long AlertId, int Recipients, TimeSpan Elapsed)> FanOutDirectlyAsync(BenchContext bench, long groupId,
        CancellationToken cancellationToken)
    {
        long alertId;
        await using (var connection = await bench.Db.OpenConnectionAsync(cancellationToken))
        {
            alertId = await connection.ExecuteScalarAsync<long>(new CommandDefinition(
                """
                INSERT INTO alerts (type, bodies, target_groups, created_by)
                VALUES ('know_your_rights', '{"en": "Benchmark fan-out"}', ARRAY[@groupId], 'benchmark')
                RETURNING id
                """,
                new { groupId }, cancellationToken: cancellationToken));
        }

        // The real job with its real dependencies from AlertNet's container; only the job client is ours.
        var job = ActivatorUtilities.CreateInstance<DispatchAlertJob>(bench.AlertNet.Services, new DiscardingJobClient());
        var started = Stopwatch.GetTimestamp();
        await job.RunAsync(alertId, cancellationToken);
        var elapsed = Stopwatch.GetElapsedTime(started);

        await using (var connection = await bench.Db.OpenConnectionAsync(cancellationToken))
        {
            var recipients = await connection.ExecuteScalarAsync<int>(new CommandDefinition(
                "SELECT recipients FROM alerts WHERE id = @alertId", new { alertId }, cancellationToken: cancellationToken));
            return (alertId, recipients, elapsed);
        }
    }

    public static async Task DeleteAlertAsync(BenchContext bench, long alertId, CancellationToken cancellationToken)
    {
        await using var connection = await bench.Db.OpenConnectionAsync(cancellationToken);
        await connection.ExecuteAsync(new CommandDefinition(
            "DELETE FROM alerts WHERE id = @alertId", new { alertId }, cancellationToken: cancellationToken, commandTimeout: 600));
    }

    private static async Task<TimeSpan> CopyBaselineAsync(BenchContext bench, long alertId, CancellationToken cancellationToken)
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

            return Stopwatch.GetElapsedTime(started);
        }
        finally
        {
            await connection.ExecuteAsync("DROP TABLE IF EXISTS bench_copy_baseline");
        }
    }
}
