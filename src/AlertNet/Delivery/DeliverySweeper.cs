using Dapper;
using Twilio.Clients;
using Twilio.Exceptions;
using Twilio.Rest.Api.V2010.Account;
using Hangfire;
using Microsoft.Extensions.Options;
using Npgsql;

namespace AlertNet.Delivery;

/// <summary>Restarts work nobody is doing: an alert whose dispatch job was lost between the INSERT and
/// the enqueue, or whose send jobs died with their worker process (Hangfire would only hand a dead
/// worker's job to another after its invisibility timeout, minutes later); and asks Twilio about
/// messages whose status callbacks never arrived. Runs in every worker process; an advisory lock
/// lets one sweep at a time.</summary>
public sealed class DeliverySweeper(NpgsqlDataSource db, IBackgroundJobClient jobs, IOptions<DeliveryOptions> options,
    ITwilioRestClient twilio, StatusCallbackWriter statusWriter, ILogger<DeliverySweeper> logger) : BackgroundService
{
    // "Sweeper" in ASCII: any fixed number all AlertNet processes agree on.
    private const long SweepLockKey = 0x5377656570657221;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(options.Value.SweepIntervalSeconds));
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                await SweepAsync(stoppingToken);
            }
            catch (NpgsqlException error)
            {
                // The database may be restarting; the next tick tries again.
                logger.LogWarning("Delivery sweep failed: {Error} {SqlState}", error.GetType().Name, error.SqlState);
            }
        }
    }

    public async Task SweepAsync(CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        if (!await connection.ExecuteScalarAsync<bool>(new CommandDefinition(
                "SELECT pg_try_advisory_xact_lock(@SweepLockKey)", new { SweepLockKey }, transaction, cancellationToken: cancellationToken)))
        {
            return;
        }

        var stall = (double)options.Value.StallSeconds;
        var stuckQueued = await connection.QueryAsync<(long Id, string Type)>(new CommandDefinition(
            """
            SELECT id, type FROM alerts
            -- Due since it was created, approved (awaiting_approval → queued) or scheduled to go, whichever is last.
            WHERE state = 'queued' AND greatest(send_at, approved_at, created_at) < now() - make_interval(secs => @stall)
            """,
            new { stall }, transaction, cancellationToken: cancellationToken));
        foreach (var (id, type) in stuckQueued)
        {
            jobs.Enqueue<DispatchAlertJob>(Alerts.AlertType.Lane(type), job => job.RunAsync(id, CancellationToken.None));
        }

        var stalled = await connection.QueryAsync<(long Id, string Type, long Due)>(new CommandDefinition(
            """
            SELECT a.id, a.type, count(*) AS due
            FROM alerts a JOIN deliveries d ON d.alert_id = a.id
            WHERE a.state = 'sending' AND d.state IN ('pending', 'sending')
              AND (d.claimed_until IS NULL OR d.claimed_until < now())
              -- Only alerts nobody has touched for a while: a busy alert also has unclaimed rows.
              AND NOT EXISTS (SELECT 1 FROM deliveries x WHERE x.alert_id = a.id AND x.updated_at > now() - make_interval(secs => @stall))
            GROUP BY a.id, a.type
            """,
            new { stall }, transaction, cancellationToken: cancellationToken));
        foreach (var (id, type, due) in stalled)
        {
            logger.LogInformation("Alert {AlertId} stalled with {Due} deliveries due; restarting its senders", id, due);
            DispatchAlertJob.EnqueueSenders(jobs, id, Alerts.AlertType.Lane(type), due, options.Value);
        }

        var unsettled = (await connection.QueryAsync<(long Id, string Sid)>(new CommandDefinition(
            """
            SELECT id, twilio_sid FROM deliveries
            WHERE state IN ('accepted', 'sent') AND twilio_sid IS NOT NULL
              AND updated_at < now() - make_interval(secs => @quiet)
            ORDER BY updated_at
            LIMIT 200
            """,
            new { quiet = (double)options.Value.StatusCheckSeconds }, transaction, cancellationToken: cancellationToken))).ToList();
        await transaction.CommitAsync(cancellationToken);
        await RefreshStatusesAsync(unsettled, cancellationToken);
    }

    /// <summary>Twilio does not retry a status callback we failed to take (the database was down, say):
    /// a delivery that has heard nothing for a while asks Twilio for its message's status.</summary>
    private async Task RefreshStatusesAsync(List<(long Id, string Sid)> deliveries, CancellationToken cancellationToken)
    {
        foreach (var (id, sid) in deliveries)
        {
            try
            {
                var message = await MessageResource.FetchAsync(pathSid: sid, client: twilio);
                if (DeliveryState.FromTwilio(message.Status?.ToString()) is { } state)
                {
                    await statusWriter.WriteAsync(new ReceiveStatusCallback(id, sid, state, message.ErrorCode is > 0 ? message.ErrorCode : null),
                        cancellationToken);
                }
            }
            catch (ApiException error)
            {
                logger.LogWarning("Delivery {DeliveryId}: status refresh failed with Twilio error {Code}", id, error.Code);
            }
        }
    }
}
