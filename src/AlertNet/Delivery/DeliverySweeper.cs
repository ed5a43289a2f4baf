using AlertNet.Carrier;
using Dapper;
using Hangfire;
using Microsoft.Extensions.Options;
using Npgsql;

namespace AlertNet.Delivery;

/// <summary>Restarts work nobody is doing: an alert whose dispatch job was lost between the INSERT and the enqueue, or
/// whose send jobs died with their worker process (Hangfire would only hand a dead worker's job to another after its
/// invisibility timeout, minutes later); and asks the provider about messages whose final status callback never came.
/// Runs in every worker process: restarts are decided by one process at a time (an advisory lock), status checks are
/// shared (each process claims its own rows). Nothing that fails here ends the process.</summary>
public sealed class DeliverySweeper(NpgsqlDataSource db, IBackgroundJobClient jobs, IOptions<DeliveryOptions> options,
    CarrierClient carrier, StatusCallbackWriter statusWriter, ILogger<DeliverySweeper> logger) : BackgroundService
{
    // "Sweeper" in ASCII: any fixed number all AlertNet processes agree on.
    private const long SweepLockKey = 0x5377656570657221;

    private const int StatusCheckBatch = 100;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(options.Value.SweepIntervalSeconds));
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                await SweepAsync(stoppingToken);
                await CheckStatusesAsync(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception error)
            {
                // The database may be restarting, the provider may be down: the next tick tries again.
                logger.LogWarning("Delivery sweep failed: {Error} {SqlState}", error.GetType().Name, (error as PostgresException)?.SqlState);
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

        await transaction.CommitAsync(cancellationToken);
    }

    /// <summary>The provider does not retry a status callback we failed to take (the database was down, say), and many
    /// carriers never send a delivery receipt. A message with no final status some time after it was accepted is asked
    /// about, at most <see cref="DeliveryOptions.MaxStatusChecks"/> times with a pause that doubles each time; a claim
    /// (the next check moved into the future, rows locked with SKIP LOCKED) gives each due message to one process, so
    /// no message is asked about in circles and the oldest never starve the newest. One left at "sent" long enough is
    /// settled as "sent, no receipt". A check that could not reach the provider does not count.</summary>
    public async Task CheckStatusesAsync(CancellationToken cancellationToken)
    {
        if (carrier.Circuit.RetryAfter > TimeSpan.Zero)
        {
            return;
        }

        var settings = options.Value;
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        var due = (await connection.QueryAsync<(long Id, string Sid, string State, int Checks, DateTime AcceptedAt)>(new CommandDefinition(
            """
            WITH due AS (
                SELECT id FROM deliveries
                WHERE state IN ('accepted', 'sent') AND next_status_check_at <= now()
                ORDER BY next_status_check_at
                LIMIT @batch
                FOR UPDATE SKIP LOCKED)
            UPDATE deliveries d
            SET status_checks = d.status_checks + 1,
                -- A message at "sent" is asked about until it is old enough to settle as "sent, no receipt"; one still
                -- "accepted" at most @maxChecks times.
                next_status_check_at = CASE
                    WHEN d.state = 'sent' THEN least(now() + make_interval(secs => @first * power(2, least(d.status_checks + 1, 10))),
                        greatest(now(), coalesce(d.accepted_at, d.created_at) + make_interval(secs => @noReceipt)))
                    WHEN d.status_checks + 1 >= @maxChecks THEN NULL
                    ELSE now() + make_interval(secs => @first * power(2, least(d.status_checks + 1, 10))) END
            FROM due WHERE d.id = due.id
            RETURNING d.id, coalesce(d.twilio_sid, ''), d.state, d.status_checks, coalesce(d.accepted_at, d.created_at)
            """,
            new
            {
                batch = StatusCheckBatch,
                maxChecks = settings.MaxStatusChecks,
                first = (double)settings.StatusCheckSeconds,
                noReceipt = (double)settings.SentNoReceiptSeconds,
            },
            cancellationToken: cancellationToken))).ToList();

        var noReceiptAfter = TimeSpan.FromSeconds(settings.SentNoReceiptSeconds);
        var unreachable = new List<long>();
        await Parallel.ForEachAsync(due, new ParallelOptions { MaxDegreeOfParallelism = 4, CancellationToken = cancellationToken },
            async (delivery, ct) =>
            {
                string? state = null;
                int? errorCode = null;
                if (delivery.Sid.Length > 0)
                {
                    try
                    {
                        var message = await carrier.FetchAsync(delivery.Sid);
                        state = DeliveryState.FromTwilio(message.Status);
                        errorCode = message.ErrorCode is > 0 ? message.ErrorCode : null;
                    }
                    catch (CarrierException error) when (error.HttpStatus == 404 || error.Code == 20404)
                    {
                        // The provider no longer knows it (deleted there): nothing more can be learned.
                        state = null;
                    }
                    catch (CarrierException error)
                    {
                        logger.LogWarning("Delivery {DeliveryId}: status check failed ({Failure}, code {Code})", delivery.Id, error.Failure, error.Code);
                        lock (unreachable)
                        {
                            unreachable.Add(delivery.Id);
                        }

                        return;
                    }
                }

                var current = state ?? delivery.State;
                if (current == DeliveryState.Sent && DateTime.UtcNow - DateTime.SpecifyKind(delivery.AcceptedAt, DateTimeKind.Utc) >= noReceiptAfter)
                {
                    state = DeliveryState.SentNoReceipt;
                }

                if (state is not null && DeliveryState.Rank(state) > DeliveryState.Rank(delivery.State))
                {
                    await statusWriter.WriteAsync(new ReceiveStatusCallback(delivery.Id, delivery.Sid, state, errorCode), ct);
                }
            });

        if (unreachable.Count > 0)
        {
            // Not a check: the same number of checks is left, and the next comes soon (within a minute).
            await connection.ExecuteAsync(new CommandDefinition(
                """
                UPDATE deliveries SET status_checks = greatest(status_checks - 1, 0), next_status_check_at = now() + make_interval(secs => @retry)
                WHERE id = ANY(@ids) AND state IN ('accepted', 'sent')
                """,
                new { ids = unreachable.ToArray(), retry = Math.Min(60.0, settings.StatusCheckSeconds) }, cancellationToken: CancellationToken.None));
        }
    }
}
