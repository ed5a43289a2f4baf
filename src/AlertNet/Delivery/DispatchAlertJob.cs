using AlertNet.Infrastructure.Jobs;
using Dapper;
using Hangfire;
using Microsoft.Extensions.Options;
using Npgsql;

namespace AlertNet.Delivery;

/// <summary>Fans an alert out to its recipients in one INSERT … SELECT (no round trip and no Hangfire
/// job per recipient), then queues a few batch-send jobs that share the rows between them.
/// Safe to run twice: the fan-out happens once, and extra send jobs find nothing to claim.</summary>
public sealed class DispatchAlertJob(NpgsqlDataSource db, IBackgroundJobClient jobs, IOptions<DeliveryOptions> options,
    IServiceProvider services, ILogger<DispatchAlertJob> logger)
{
    [AutomaticRetry(Attempts = 5)]
    public async Task RunAsync(long alertId, CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        if (!await WaitForSendTimeAsync(connection, alertId, cancellationToken))
        {
            return;
        }

        await WaitForStoppedOriginalAsync(connection, alertId, cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var alert = await connection.QuerySingleOrDefaultAsync<(string State, string Type, long? FollowUpOf)?>(new CommandDefinition(
            "SELECT state, type, follow_up_of FROM alerts WHERE id = @alertId FOR UPDATE", new { alertId }, transaction,
            cancellationToken: cancellationToken));
        // Only a queued (or, run again, a sending) alert is dispatched: never one awaiting approval or rejected.
        if (alert is not { } found || found.State is not ("queued" or "sending"))
        {
            return;
        }

        if (found.State == "queued")
        {
            var recipients = found.FollowUpOf is { } original
                ? await FanOutFollowUpAsync(connection, transaction, alertId, original, cancellationToken)
                : await FanOutToGroupsAsync(connection, transaction, alertId, found.Type, cancellationToken);
            await connection.ExecuteAsync(new CommandDefinition(
                """
                UPDATE alerts SET state = 'sending', fanned_out_at = now(),
                    recipients = (SELECT count(*) FROM deliveries WHERE alert_id = @alertId)
                WHERE id = @alertId
                """,
                new { alertId }, transaction, cancellationToken: cancellationToken));
            logger.LogInformation("Alert {AlertId} fanned out to {Recipients} recipients", alertId, recipients);
        }

        await transaction.CommitAsync(cancellationToken);
        var pending = await PendingCountAsync(connection, alertId, cancellationToken);

        // The other senders wait for a worker to poll the queue; this job becomes the first sender
        // itself, so the first message leaves without that wait.
        EnqueueSenders(jobs, alertId, AlertLane(found.Type), pending, options.Value, keepOne: true);
        await ActivatorUtilities.CreateInstance<SendDeliveriesJob>(services).RunAsync(alertId, cancellationToken);
    }

    private static async Task<int> FanOutToGroupsAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, long alertId, string type,
        CancellationToken cancellationToken)
    {
        // Bulk sends to a group in its quiet hours wait until the window ends: the row's
        // claimed_until holds them back. A subscriber also in a target group that is awake gets it now.
        var holds = Alerts.AlertType.Lane(type) == Lanes.Bulk
            ? await QuietGroupsAsync(connection, transaction, alertId, cancellationToken)
            : [];
        // Opted-out numbers and inactive subscriptions never become recipients. A person gets the alert
        // once: in two target groups (GROUP BY), or subscribed on WhatsApp and SMS (DISTINCT ON the
        // number's blind index, WhatsApp first: the sender falls back to SMS when WhatsApp cannot carry it).
        return await connection.ExecuteAsync(new CommandDefinition(
            """
            WITH candidates AS (
                SELECT s.subscriber_id AS id, s.phone_index, s.channel, s.language,
                       nullif(min(coalesce(q.until, '-infinity'::timestamptz)), '-infinity'::timestamptz) AS not_before
                FROM alerts a
                JOIN reachable_members s ON s.group_id = ANY (a.target_groups)
                LEFT JOIN unnest(@quietGroups, @quietUntil) AS q (group_id, until) ON q.group_id = s.group_id
                WHERE a.id = @alertId
                GROUP BY s.subscriber_id, s.phone_index, s.channel, s.language)
            INSERT INTO deliveries (alert_id, subscriber_id, channel, language, claimed_until)
            SELECT DISTINCT ON (phone_index) @alertId, id, channel, language, not_before
            FROM candidates
            ORDER BY phone_index, channel = 'whatsapp' DESC
            ON CONFLICT (alert_id, subscriber_id) DO NOTHING
            """,
            new
            {
                alertId,
                quietGroups = holds.Select(h => h.GroupId).ToArray(),
                quietUntil = holds.Select(h => h.Until).ToArray(),
            },
            transaction, cancellationToken: cancellationToken, commandTimeout: 600));
    }

    /// <summary>A follow-up goes to the people its original was sent to (follow_up_recipients: one definition, shared
    /// with the approval count), on the channel that carried the original, whatever the groups hold now.</summary>
    private static Task<int> FanOutFollowUpAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, long alertId, long original,
        CancellationToken cancellationToken) =>
        connection.ExecuteAsync(new CommandDefinition(
            """
            INSERT INTO deliveries (alert_id, subscriber_id, channel, language)
            SELECT DISTINCT ON (phone_index) @alertId, subscriber_id, channel, language
            FROM follow_up_recipients(@original)
            ORDER BY phone_index, channel = 'whatsapp' DESC
            ON CONFLICT (alert_id, subscriber_id) DO NOTHING
            """,
            new { alertId, original }, transaction, cancellationToken: cancellationToken, commandTimeout: 600));

    /// <summary>A retraction or all-clear has just stopped its original. Batches of the original that were sending
    /// in any process stop within a quarter second and hand back what they had not started (cancelled); what was in
    /// flight settles when the provider answers. Until then a copy still "sending" may or may not go out, so the
    /// follow-up waits for them (while their claim lasts, and at most 20 s: a provider request's default timeout and a
    /// little more) before it picks its recipients: those who got the original get the follow-up, those who never did
    /// get nothing. Usually the wait is under a second.</summary>
    private static async Task WaitForStoppedOriginalAsync(NpgsqlConnection connection, long alertId, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (DateTime.UtcNow < deadline && await connection.ExecuteScalarAsync<bool>(new CommandDefinition(
                   """
                   SELECT EXISTS (
                       SELECT 1 FROM alerts f
                       JOIN alerts o ON o.id = f.follow_up_of AND o.state = 'cancelled'
                       JOIN deliveries d ON d.alert_id = o.id AND d.state = 'sending' AND d.claimed_until > now()
                       WHERE f.id = @alertId AND f.state = 'queued' AND f.type IN ('all_clear', 'retraction'))
                   """,
                   new { alertId }, cancellationToken: cancellationToken)))
        {
            await Task.Delay(TimeSpan.FromMilliseconds(100), cancellationToken);
        }
    }

    /// <summary>A scheduled alert never goes out early. Hangfire keeps a schedule to the whole second and
    /// polls it every second, so its job can start up to a second before the alert's time: wait out a
    /// short remainder, or schedule again (and say so: false) if the alert was moved later.</summary>
    private async Task<bool> WaitForSendTimeAsync(NpgsqlConnection connection, long alertId, CancellationToken cancellationToken)
    {
        var scheduled = await connection.QuerySingleOrDefaultAsync<(DateTime? SendAt, string Type)?>(new CommandDefinition(
            "SELECT send_at, type FROM alerts WHERE id = @alertId AND state = 'queued'", new { alertId },
            cancellationToken: cancellationToken));
        if (scheduled is not { SendAt: { } sendAt } alert || sendAt <= DateTime.UtcNow)
        {
            return true;
        }

        var remaining = sendAt - DateTime.UtcNow;
        if (remaining > TimeSpan.FromSeconds(5))
        {
            jobs.Schedule<DispatchAlertJob>(AlertLane(alert.Type), job => job.RunAsync(alertId, CancellationToken.None),
                new DateTimeOffset(DateTime.SpecifyKind(sendAt, DateTimeKind.Utc)));
            return false;
        }

        await Task.Delay(remaining, cancellationToken);
        return true;
    }

    /// <summary>Enough batch jobs to keep every worker busy, but never one per recipient.</summary>
    internal static void EnqueueSenders(IBackgroundJobClient jobs, long alertId, string lane, long pending, DeliveryOptions options,
        bool keepOne = false)
    {
        var batches = (pending + options.BatchSize - 1) / options.BatchSize;
        var senders = Math.Max(1, Math.Min(batches, options.ParallelBatchJobs)) - (keepOne ? 1 : 0);
        for (var i = 0; i < senders; i++)
        {
            jobs.Enqueue<SendDeliveriesJob>(lane, job => job.RunAsync(alertId, CancellationToken.None));
        }
    }

    internal static string AlertLane(string type) => Alerts.AlertType.Lane(type);

    private static async Task<List<(long GroupId, DateTime Until)>> QuietGroupsAsync(NpgsqlConnection connection,
        NpgsqlTransaction transaction, long alertId, CancellationToken cancellationToken)
    {
        var groups = await connection.QueryAsync<(long Id, TimeSpan Start, TimeSpan End, string Zone)>(new CommandDefinition(
            """
            SELECT g.id, g.quiet_start, g.quiet_end, g.time_zone
            FROM groups g JOIN alerts a ON g.id = ANY (a.target_groups)
            WHERE a.id = @alertId AND g.quiet_start IS NOT NULL
            """,
            new { alertId }, transaction, cancellationToken: cancellationToken));
        var now = DateTime.UtcNow;
        var holds = new List<(long, DateTime)>();
        foreach (var group in groups)
        {
            var quiet = new QuietHours(TimeOnly.FromTimeSpan(group.Start), TimeOnly.FromTimeSpan(group.End),
                TimeZoneInfo.FindSystemTimeZoneById(group.Zone));
            if (quiet.EndsAfter(now) is { } until)
            {
                holds.Add((group.Id, until));
            }
        }

        return holds;
    }

    private static Task<long> PendingCountAsync(NpgsqlConnection connection, long alertId, CancellationToken cancellationToken) =>
        connection.ExecuteScalarAsync<long>(new CommandDefinition(
            "SELECT count(*) FROM deliveries WHERE alert_id = @alertId AND state IN ('pending', 'sending')",
            new { alertId }, cancellationToken: cancellationToken));
}
