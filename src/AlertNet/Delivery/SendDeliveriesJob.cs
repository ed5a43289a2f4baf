using System.Collections.Concurrent;
using System.Diagnostics;
using AlertNet.Hosting;
using Dapper;
using Hangfire;
using Microsoft.Extensions.Options;
using Npgsql;

namespace AlertNet.Delivery;

/// <summary>Claims batches of an alert's deliveries (FOR UPDATE SKIP LOCKED, with a lease) and sends
/// them until none is left. Several of these jobs, in any number of worker processes, drain one alert
/// together; the claim is what makes each delivery go out once.</summary>
public sealed class SendDeliveriesJob(
    NpgsqlDataSource db,
    DeliveryStore store,
    DeliverySender sender,
    IBackgroundJobClient jobs,
    SenderThrottle throttle,
    Carrier.CarrierClient carrier,
    IOptions<DeliveryOptions> deliveryOptions,
    IOptions<AlertNetOptions> appOptions,
    ILogger<SendDeliveriesJob> logger)
{
    [AutomaticRetry(Attempts = 5)]
    public async Task RunAsync(long alertId, CancellationToken cancellationToken)
    {
        using var scope = logger.BeginScope(new Dictionary<string, object> { ["AlertId"] = alertId });
        var alert = await LoadAsync(alertId, cancellationToken);
        var started = Stopwatch.GetTimestamp();
        var claimedUpTo = 0L;
        while (alert is { State: "sending" } && !cancellationToken.IsCancellationRequested)
        {
            if (Stopwatch.GetElapsedTime(started) > TimeSpan.FromSeconds(deliveryOptions.Value.JobSliceSeconds))
            {
                // Take turns: back of the queue, so the next alert in this lane finds a worker within a
                // slice instead of after this whole alert.
                jobs.Enqueue<SendDeliveriesJob>(alert.Lane, job => job.RunAsync(alertId, CancellationToken.None));
                return;
            }

            if (alert.ExpiresAt is { } expiry && expiry <= DateTime.UtcNow)
            {
                await store.ExpireRemainingAsync(alertId);
                break;
            }

            if (carrier.Circuit.RetryAfter is { Ticks: > 0 } pause)
            {
                // The provider is down: claim nothing until the circuit lets a probe through, then pick up (urgent lane
                // first: bulk waits a little longer).
                jobs.Schedule<SendDeliveriesJob>(alert.Lane, job => job.RunAsync(alertId, CancellationToken.None),
                    alert.IsUrgent ? pause : pause + TimeSpan.FromSeconds(2));
                return;
            }

            // Not cancellable: a claim committed but never read would hold its rows until the lease ran out.
            // A shutdown that comes now is seen by SendBatchAsync, which hands the whole batch back.
            var claimStarted = Stopwatch.GetTimestamp();
            var batch = await store.ClaimBatchAsync(alertId, claimedUpTo, CancellationToken.None);
            if (batch.Count == 0 && claimedUpTo > 0)
            {
                // Nothing due past this job's cursor: look once more from the start, for retries that fell
                // due and rows whose claims expired behind it. (A cursor lives one slice, so such rows are
                // also found by the next job within seconds.)
                claimedUpTo = 0;
                claimStarted = Stopwatch.GetTimestamp();
                batch = await store.ClaimBatchAsync(alertId, claimedUpTo, CancellationToken.None);
            }

            if (batch.Count == 0)
            {
                break;
            }

            claimedUpTo = batch.Max(d => d.Id);
            using (logger.BeginScope(new Dictionary<string, object> { ["DeliveryBatch"] = $"{batch[0].Id}+{batch.Count}" }))
            {
                await SendBatchAsync(alert, batch, new ClaimLease(claimStarted, deliveryOptions.Value.ClaimLeaseSeconds), cancellationToken);
            }

            alert = await LoadAsync(alertId, cancellationToken);
        }

        if (alert is { State: "sending" })
        {
            await FinishOrFollowUpAsync(alert, cancellationToken);
        }
    }

    private Task<AlertToSend?> LoadAsync(long alertId, CancellationToken cancellationToken) =>
        AlertToSend.LoadAsync(db, alertId, appOptions.Value.DefaultLanguage, cancellationToken);

    private async Task SendBatchAsync(AlertToSend alert, List<ClaimedDelivery> batch, ClaimLease lease, CancellationToken shutdown)
    {
        // Cancelling an alert stops new sends within a fraction of a second, in every process: each
        // batch watches the alert's state while it sends.
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(shutdown);
        var optedOut = new ConcurrentDictionary<long, bool>();
        var started = new ConcurrentDictionary<long, bool>();
        // Finished: the request to the provider has returned (or failed). Until then a delivery's claim is still
        // renewed: a request can outlast the lease (a slow provider), and a claim that ran out while its request
        // was in flight would let another worker send the same message again.
        var finished = new ConcurrentDictionary<long, bool>();
        var watcher = WatchAsync(alert.Id, batch, optedOut, finished, lease, stop);
        try
        {
            await Parallel.ForEachAsync(batch,
                new ParallelOptions { MaxDegreeOfParallelism = deliveryOptions.Value.ConcurrentRequests, CancellationToken = stop.Token },
                async (delivery, ct) =>
                {
                    await throttle.WaitAsync(alert.SegmentsFor(delivery.Language), alert.IsUrgent, ct);
                    // Send only under a live claim: when the lease has run out (a slow batch, a stalled process, the
                    // database unreachable for renewals) another worker may already have this delivery.
                    if (!lease.Holds(delivery.Id))
                    {
                        return;
                    }

                    started[delivery.Id] = true;
                    try
                    {
                        // Someone who texted STOP while this batch waited for its turn gets nothing.
                        await sender.SendAsync(alert, optedOut.ContainsKey(delivery.Id) ? delivery with { OptedOut = true } : delivery);
                    }
                    finally
                    {
                        finished[delivery.Id] = true;
                    }
                });
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            // Hand back what was claimed but never attempted: to the queue when shutting down, or
            // cancelled with its alert.
            await store.ReleaseAsync(batch.Where(d => !started.ContainsKey(d.Id)).Select(d => d.Id).ToArray(),
                cancelled: !shutdown.IsCancellationRequested);
            shutdown.ThrowIfCancellationRequested();
        }
        finally
        {
            await stop.CancelAsync();
            await watcher;
        }
    }

    /// <summary>While a batch sends, looks every quarter second for what changed since it was claimed:
    /// the alert cancelled (stop), or recipients who opted out or were purged (skip them); and renews the claim of
    /// what is still to be sent or in flight, so that the lease covers a batch however long the throttle or the
    /// provider makes it.</summary>
    private async Task WatchAsync(long alertId, List<ClaimedDelivery> batch, ConcurrentDictionary<long, bool> optedOut,
        ConcurrentDictionary<long, bool> finished, ClaimLease lease, CancellationTokenSource stop)
    {
        var deliveryIds = batch.Select(d => d.Id).ToArray();
        var claimedAt = batch[0].ClaimedAt;
        var claimed = Stopwatch.GetTimestamp();
        while (!stop.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(TimeSpan.FromMilliseconds(250), stop.Token);
                // Renewed once a quarter of the lease is used (a batch under the throttle can outlast it), not at
                // every look: each renewal is a write of every row still waiting.
                var waiting = lease.NeedsRenewal ? deliveryIds.Where(id => !finished.ContainsKey(id)).ToArray() : [];
                if (waiting.Length > 0)
                {
                    var renewStarted = Stopwatch.GetTimestamp();
                    lease.Renewed(renewStarted, waiting, await store.RenewClaimAsync(waiting, claimedAt, stop.Token));
                }

                // The claim saw every opt-out committed before it; what can have changed since are the
                // subscribers whose status changed lately (every opt-out path marks them). The window
                // reaches back past the claim by a minute, for opt-outs whose transaction started before
                // the claim but committed after it.
                var window = Stopwatch.GetElapsedTime(claimed).TotalSeconds + 60;
                await using var connection = await db.OpenConnectionAsync(stop.Token);
                using var results = await connection.QueryMultipleAsync(new CommandDefinition(
                    """
                    SELECT state FROM alerts WHERE id = @alertId;
                    SELECT d.id FROM subscribers s JOIN deliveries d ON d.subscriber_id = s.id
                    WHERE s.status <> 'active' AND s.updated_at >= now() - make_interval(secs => @window)
                      AND d.id = ANY(@deliveryIds)
                    UNION ALL
                    -- No subscriber any more: purged. Asked only after a purge started (rare, and the
                    -- audit log's action index answers at once), not four times a second per row.
                    SELECT d.id FROM deliveries d
                    WHERE EXISTS (SELECT 1 FROM audit_log a
                                  WHERE a.action = @purgeStarted AND a.at >= now() - make_interval(secs => @window))
                      AND d.id = ANY(@deliveryIds)
                      AND NOT EXISTS (SELECT 1 FROM subscribers s WHERE s.id = d.subscriber_id);
                    """,
                    new { alertId, deliveryIds, window, purgeStarted = Privacy.PurgeSubscribers.StartedAction },
                    cancellationToken: stop.Token));
                var state = await results.ReadSingleAsync<string>();
                foreach (var id in await results.ReadAsync<long>())
                {
                    optedOut[id] = true;
                }

                if (state == "cancelled")
                {
                    await stop.CancelAsync();
                }
            }
            catch (OperationCanceledException)
            {
                // The batch is over, or the alert was cancelled: either way, stop watching.
                return;
            }
            catch (NpgsqlException error)
            {
                // The database is unreachable: no renewal, so the lease runs out and sending stops; try again.
                logger.LogWarning("Batch of alert {AlertId}: could not renew its claim ({Error})", alertId, error.GetType().Name);
            }
        }
    }

    /// <summary>When nothing is claimable: either the alert is done, or some deliveries wait for a
    /// retry, a lease or the end of quiet hours; then one follow-up job is scheduled for when the first
    /// of them is due, in the alert's lane.</summary>
    private async Task FinishOrFollowUpAsync(AlertToSend alert, CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        var nextDue = await connection.ExecuteScalarAsync<DateTime?>(new CommandDefinition(
            "SELECT min(coalesce(claimed_until, now())) FROM deliveries WHERE alert_id = @id AND state IN ('pending', 'sending')",
            new { id = alert.Id }, cancellationToken: cancellationToken));
        if (nextDue is null)
        {
            var finished = await connection.ExecuteAsync(new CommandDefinition(
                """
                UPDATE alerts SET state = 'done', finished_at = now()
                WHERE id = @id AND state = 'sending'
                  AND NOT EXISTS (SELECT 1 FROM deliveries WHERE alert_id = @id AND state IN ('pending', 'sending'))
                """,
                new { id = alert.Id }, cancellationToken: cancellationToken));
            if (finished == 1)
            {
                logger.LogInformation("Alert {AlertId} handed to Twilio in full", alert.Id);
            }

            return;
        }

        if (!cancellationToken.IsCancellationRequested)
        {
            var delay = nextDue.Value - DateTime.UtcNow;
            jobs.Schedule<SendDeliveriesJob>(alert.Lane, job => job.RunAsync(alert.Id, CancellationToken.None),
                delay < TimeSpan.FromMilliseconds(200) ? TimeSpan.FromMilliseconds(200) : delay);
        }
    }

    /// <summary>How long this process may still send a batch's deliveries, on its own monotonic clock: from when the
    /// claim (or its last renewal) was asked for, plus the lease. The database's claimed_until is never earlier, so
    /// while this holds no other claimer can have the delivery. A send starts only with at least half the lease left,
    /// so it ends (Twilio's request timeout, default 15 s) before the lease could (default 60 s).</summary>
    private sealed class ClaimLease(long claimStarted, int leaseSeconds)
    {
        private readonly ConcurrentDictionary<long, bool> _lost = new();
        private long _validUntil = claimStarted + (long)(leaseSeconds * Stopwatch.Frequency);

        public bool NeedsRenewal =>
            Interlocked.Read(ref _validUntil) - Stopwatch.GetTimestamp() < leaseSeconds * Stopwatch.Frequency * 3 / 4;

        public bool Holds(long deliveryId) =>
            !_lost.ContainsKey(deliveryId)
            && Interlocked.Read(ref _validUntil) - Stopwatch.GetTimestamp() >= leaseSeconds * Stopwatch.Frequency / 2;

        /// <summary>What the renewal no longer holds (taken over by another claimer) is never sent from here.</summary>
        public void Renewed(long renewStarted, long[] waiting, HashSet<long> held)
        {
            foreach (var id in waiting.Where(id => !held.Contains(id)))
            {
                _lost[id] = true;
            }

            Interlocked.Exchange(ref _validUntil, renewStarted + (long)(leaseSeconds * Stopwatch.Frequency));
        }
    }
}
