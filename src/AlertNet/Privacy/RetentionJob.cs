using AlertNet.Infrastructure.Jobs;
using Dapper;
using Hangfire;
using Microsoft.Extensions.Options;
using Npgsql;

namespace AlertNet.Privacy;

/// <summary>What one retention run removed.</summary>
public sealed record RetentionResult(int Alerts, long DeliveriesUnlinked, long InboundMessages, long HotlineReports, long OtherRows);

/// <summary>Deletes what ties a phone number to what it received or said once it is older than
/// Privacy:RetentionDays: each old alert's delivery links (subscriber and Twilio SID: with Twilio's
/// credentials a SID gives the number back), inbound texts, hotline reports, hints and SMS-alert drafts.
/// Delivery rows stay, anonymous: alert counts per state and failure codes are read from them, and
/// they hold nothing about a person once the link is gone. Every statement touches at most
/// Privacy:BatchSize rows, so a run over millions of rows is many short transactions; a run that
/// stops half-way is finished by the next. Daily (Hangfire), or now with the <c>retention-run</c> verb.</summary>
public sealed class RetentionJob(NpgsqlDataSource db, AuditLog audit, IOptions<PrivacyOptions> options, ILogger<RetentionJob> logger)
{
    public const string Verb = "retention-run";
    public const string RecurringJobId = "privacy:retention";

    // "Retain!!" in ASCII: one run at a time across all processes.
    private const long LockKey = 0x52657461696E2121;

    // No [DisableConcurrentExecution]: that is a Hangfire lock row a killed process leaves behind; the advisory lock
    // below already keeps runs apart, and PostgreSQL drops it with its holder's connection.
    [AutomaticRetry(Attempts = 3)]
    public Task RunAsync(CancellationToken cancellationToken) => RunAsync("retention-job", cancellationToken);

    public async Task<RetentionResult?> RunAsync(string actor, CancellationToken cancellationToken)
    {
        await using var lockConnection = await db.OpenConnectionAsync(cancellationToken);
        if (!await lockConnection.ExecuteScalarAsync<bool>("SELECT pg_try_advisory_lock(@LockKey)", new { LockKey }))
        {
            logger.LogInformation("Retention already running in another process; skipped");
            return null;
        }

        try
        {
            var days = options.Value.RetentionDays;
            var cutoff = await lockConnection.ExecuteScalarAsync<DateTime>(
                "SELECT now() - make_interval(days => @days)", new { days });
            var (alerts, unlinked) = await UnlinkDeliveriesAsync(cutoff, cancellationToken);
            var inbound = await DeleteInBatchesAsync("inbound_messages", "received_at", cutoff, cancellationToken);
            var reports = await DeleteInBatchesAsync("hotline_reports", "received_at", cutoff, cancellationToken);
            var other = await DeleteInBatchesAsync("unknown_text_hints", "last_hint_at", cutoff, cancellationToken)
                + await DeleteInBatchesAsync("pending_sms_alerts", "created_at", cutoff, cancellationToken)
                + await DeleteFinishedJobsAsync(cutoff, cancellationToken)
                + await ForgetSenderBudgetsAsync(cancellationToken)
                + await ForgetWhatsAppWindowsAsync(cancellationToken);
            var result = new RetentionResult(alerts, unlinked, inbound, reports, other);
            await audit.RecordAsync(actor, "retention.run", null, new { days, cutoff, result }, cancellationToken);
            logger.LogInformation(
                "Retention ({Days} days): {Alerts} alerts unlinked ({Deliveries} deliveries), {Inbound} inbound texts, {Reports} hotline reports, {Other} other rows deleted",
                days, alerts, unlinked, inbound, reports, other);
            return result;
        }
        finally
        {
            await lockConnection.ExecuteAsync("SELECT pg_advisory_unlock(@LockKey)", new { LockKey });
        }
    }

    /// <summary>Walks each old alert's deliveries by id range (the fan-out wrote them together), so every
    /// batch is an index range scan whatever the table's size, and marks the alert done.</summary>
    private async Task<(int Alerts, long Unlinked)> UnlinkDeliveriesAsync(DateTime cutoff, CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        var due = (await connection.QueryAsync<long>(new CommandDefinition(
            "SELECT id FROM alerts WHERE personal_data_removed_at IS NULL AND created_at < @cutoff ORDER BY id",
            new { cutoff }, cancellationToken: cancellationToken))).ToList();
        long unlinked = 0;
        foreach (var alertId in due)
        {
            unlinked += await UnlinkAlertAsync(connection, alertId, options.Value.BatchSize, cancellationToken);
            await connection.ExecuteAsync(new CommandDefinition(
                "UPDATE alerts SET personal_data_removed_at = now() WHERE id = @alertId", new { alertId }, cancellationToken: cancellationToken));
        }

        return (due.Count, unlinked);
    }

    /// <summary>Nulls the subscriber link and Twilio SID of an alert's deliveries (of every alert when
    /// <paramref name="alertId"/> is null), a batch of ids at a time. Pending rows can no longer be sent
    /// (no one to send to) and are marked skipped.</summary>
    public static async Task<long> UnlinkAlertAsync(NpgsqlConnection connection, long? alertId, int batchSize, CancellationToken cancellationToken)
    {
        var range = await connection.QuerySingleAsync<(long? First, long? Last)>(new CommandDefinition(
            alertId is null ? "SELECT min(id), max(id) FROM deliveries" : "SELECT min(id), max(id) FROM deliveries WHERE alert_id = @alertId",
            new { alertId }, cancellationToken: cancellationToken));
        long unlinked = 0;
        for (var from = range.First ?? 0; range.Last is { } last && from <= last; from += batchSize)
        {
            // A message still on its way keeps its SID until now: it goes to the deletion queue (the provider deletes it once
            // final), so that unlinking never leaves a message at the provider that nobody will delete.
            unlinked += await connection.ExecuteScalarAsync<long>(new CommandDefinition(
                $"""
                WITH due AS (
                    SELECT id, twilio_sid FROM deliveries
                    WHERE id >= @from AND id < @to AND (@alertId::bigint IS NULL OR alert_id = @alertId)
                      AND (subscriber_id IS NOT NULL OR twilio_sid IS NOT NULL)
                    FOR UPDATE),
                unlinked AS (
                    UPDATE deliveries d
                    SET subscriber_id = NULL, twilio_sid = NULL, updated_at = now(),
                        state = CASE WHEN d.state = 'pending' THEN 'skipped' ELSE d.state END,
                        completed_at = CASE WHEN d.state = 'pending' THEN now() ELSE d.completed_at END
                    FROM due WHERE d.id = due.id
                    RETURNING due.twilio_sid),
                queued AS (
                    INSERT INTO carrier_deletions (sid, kind)
                    SELECT twilio_sid, '{Carrier.ProviderDeletions.Delivery}' FROM unlinked WHERE twilio_sid IS NOT NULL ORDER BY twilio_sid
                    ON CONFLICT (sid) DO NOTHING)
                SELECT count(*) FROM unlinked
                """,
                new { from, to = from + batchSize, alertId }, cancellationToken: cancellationToken, commandTimeout: 600));
        }

        return unlinked;
    }

    /// <summary>Hangfire keeps failed jobs (with their exception) for ever, and their states and parameters with them:
    /// past retention, finished job records go too. (Jobs take ids only and the carrier adapter's exceptions carry no
    /// number, so this is the second line of defence, not the first.)</summary>
    private Task<long> DeleteFinishedJobsAsync(DateTime cutoff, CancellationToken cancellationToken) => RepeatInBatchesAsync(
        $"""
        DELETE FROM {JobsSetup.SchemaName}.job WHERE id IN (
            SELECT id FROM {JobsSetup.SchemaName}.job
            WHERE statename IN ('Succeeded', 'Failed', 'Deleted') AND createdat < @cutoff
            LIMIT @batch)
        """,
        new { cutoff, batch = options.Value.BatchSize }, cancellationToken);

    /// <summary>A subscriber's last WhatsApp message time means something for 24 hours (the session window); after that it
    /// only says when they last wrote.</summary>
    private Task<long> ForgetWhatsAppWindowsAsync(CancellationToken cancellationToken) => RepeatInBatchesAsync(
        """
        UPDATE subscribers SET last_whatsapp_inbound_at = NULL
        WHERE id IN (SELECT id FROM subscribers WHERE last_whatsapp_inbound_at < now() - interval '2 days' LIMIT @batch)
        """,
        new { batch = options.Value.BatchSize }, cancellationToken);

    /// <summary>Hourly reply and report counts (Subscribers/SenderLimits.cs) are needed only during their hour.</summary>
    private Task<long> ForgetSenderBudgetsAsync(CancellationToken cancellationToken) => RepeatInBatchesAsync(
        """
        DELETE FROM sender_budgets WHERE (sender_index, kind, hour) IN (
            SELECT sender_index, kind, hour FROM sender_budgets WHERE hour < date_trunc('hour', now()) LIMIT @batch)
        """,
        new { batch = options.Value.BatchSize }, cancellationToken);

    /// <summary>Runs a statement that changes at most a batch of rows until it changes none; returns the rows changed.</summary>
    private async Task<long> RepeatInBatchesAsync(string sql, object parameters, CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        long changed = 0;
        int count;
        do
        {
            count = await connection.ExecuteAsync(new CommandDefinition(sql, parameters, cancellationToken: cancellationToken, commandTimeout: 600));
            changed += count;
        }
        while (count > 0);

        return changed;
    }

    private Task<long> DeleteInBatchesAsync(string table, string timeColumn, DateTime cutoff, CancellationToken cancellationToken)
    {
        // Table and column names are constants of this class, never input.
        var key = table == "unknown_text_hints" ? "phone_index" : "id";
        return RepeatInBatchesAsync(
            $"""
            DELETE FROM {table} WHERE {key} IN (
                SELECT {key} FROM {table} WHERE {timeColumn} < @cutoff ORDER BY {timeColumn} LIMIT @batch)
            """,
            new { cutoff, batch = options.Value.BatchSize }, cancellationToken);
    }

    /// <summary>Registers the daily run with Hangfire (idempotent; RecurringJobRegistration does it from the background in every process).</summary>
    public static void Schedule(IRecurringJobManager recurring, PrivacyOptions options) =>
        recurring.AddOrUpdate<RetentionJob>(RecurringJobId, Lanes.Bulk, job => job.RunAsync(CancellationToken.None), options.RetentionCron);
}
