using System.Diagnostics;
using Dapper;
using Npgsql;

namespace AlertNet.Benchmarks;

/// <summary>Following an alert through AlertNet's own tables, as seen from the benchmark's connection pool.</summary>
internal static class AlertProgress
{
    /// <summary>How long after the trigger the alert was fanned out and done (every delivery past
    /// 'sending': AlertNet sets 'done' when no delivery is pending or sending).</summary>
    public sealed record Dispatch(long AlertId, int Recipients, TimeSpan FannedOutAfter, TimeSpan DoneAfter)
    {
        public double MessagesPerSecond => Recipients / DoneAfter.TotalSeconds;
    }

    /// <summary>Polls the alert's row every 20 ms (a primary-key lookup: cheap enough not to disturb what it
    /// measures, fine enough for phases of seconds). <paramref name="progress"/> runs every 10 s.</summary>
    public static async Task<Dispatch> WaitUntilDoneAsync(NpgsqlDataSource db, long alertId, long triggeredAt,
        Func<TimeSpan, Task>? progress, CancellationToken cancellationToken)
    {
        TimeSpan? fannedOut = null;
        var nextProgress = TimeSpan.FromSeconds(10);
        while (true)
        {
            var (state, recipients, hasFannedOut) = await ReadAsync(db, alertId, cancellationToken);
            var now = Stopwatch.GetElapsedTime(triggeredAt);
            if (hasFannedOut)
            {
                fannedOut ??= now;
            }

            if (state == "done")
            {
                return new Dispatch(alertId, recipients ?? 0, fannedOut ?? now, now);
            }

            if (state == "cancelled")
            {
                throw new InvalidOperationException($"Alert {alertId} was cancelled.");
            }

            if (progress is not null && now >= nextProgress)
            {
                nextProgress += TimeSpan.FromSeconds(10);
                await progress(now);
            }

            await Task.Delay(20, cancellationToken);
        }
    }

    /// <summary>Polls every 5 ms until the alert's fan-out has committed. Returns how long the fan-out
    /// transaction took, on the database's own clock: from its start (fanned_out_at is now(), the transaction's
    /// start time) to the clock_timestamp() of the first poll that sees it committed, so within a poll interval.</summary>
    public static async Task<(TimeSpan Transaction, TimeSpan SinceTrigger)> WaitForFanOutAsync(NpgsqlDataSource db, long alertId,
        long triggeredAt, CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        while (true)
        {
            var (fannedOutAt, seenAt) = await connection.QuerySingleAsync<(DateTime?, DateTime)>(new CommandDefinition(
                "SELECT fanned_out_at, clock_timestamp() FROM alerts WHERE id = @alertId", new { alertId },
                cancellationToken: cancellationToken));
            if (fannedOutAt is { } started)
            {
                return (seenAt - started, Stopwatch.GetElapsedTime(triggeredAt));
            }

            await Task.Delay(5, cancellationToken);
        }
    }

    public static async Task<string> StateAsync(NpgsqlDataSource db, long alertId, CancellationToken cancellationToken) =>
        (await ReadAsync(db, alertId, cancellationToken)).State;

    /// <summary>Delivery counts by state, for the sanity lines after a phase.</summary>
    public static async Task<Dictionary<string, long>> CountsAsync(NpgsqlDataSource db, long alertId, CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        var rows = await connection.QueryAsync<(string State, long Count)>(new CommandDefinition(
            "SELECT state, count(*) FROM deliveries WHERE alert_id = @alertId GROUP BY state", new { alertId },
            cancellationToken: cancellationToken));
        return rows.ToDictionary(r => r.State, r => r.Count);
    }

    private static async Task<(string State, int? Recipients, bool FannedOut)> ReadAsync(NpgsqlDataSource db, long alertId,
        CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        return await connection.QuerySingleAsync<(string, int?, bool)>(new CommandDefinition(
            "SELECT state, recipients, fanned_out_at IS NOT NULL FROM alerts WHERE id = @alertId", new { alertId },
            cancellationToken: cancellationToken));
    }
}
