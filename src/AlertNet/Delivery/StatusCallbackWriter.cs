using AlertNet.Infrastructure.Telemetry;
using Microsoft.Extensions.Options;
using Npgsql;

namespace AlertNet.Delivery;

/// <summary>Writes status callbacks to the database in groups: a large alert brings three callbacks per
/// message, and one UPDATE (and one commit) for each would make the database the bottleneck. Each
/// request still waits for its own row to be committed before Twilio gets its 200.</summary>
public sealed class StatusCallbackWriter(NpgsqlDataSource db, AlertNetMetrics metrics, IOptions<DeliveryOptions> options,
    ILogger<StatusCallbackWriter> logger)
    : GroupCommitWriter<ReceiveStatusCallback>(logger)
{
    protected override async Task WriteGroupAsync(IReadOnlyList<ReceiveStatusCallback> group)
    {
        // Several callbacks for one delivery may share a group (sent and delivered close together): keep
        // the furthest state, as the forward-only rule would have.
        var latest = group
            .GroupBy(c => c.DeliveryId)
            .Select(g => g.MaxBy(c => DeliveryState.Rank(c.State))! with { ErrorCode = g.Max(c => c.ErrorCode) })
            .OrderBy(c => c.DeliveryId) // the same lock order in every writer
            .ToList();
        var moved = await QueryWithRelaxedCommitAsync<(long Id, string State, int? ErrorCode)>(
            db,
            $"""
            WITH moved AS (
                UPDATE deliveries d
                SET state = c.state,
                    -- The SID is kept only while the message is on its way (see AcceptedWriter): a final state hands it
                    -- to the deletion queue, and a delivery unlinked from its subscriber (purged, or past retention) keeps none.
                    twilio_sid = CASE WHEN d.subscriber_id IS NULL OR delivery_state_rank(c.state) = 4 THEN NULL
                                      ELSE coalesce(d.twilio_sid, c.sid) END,
                    error_code = coalesce(c.error_code, d.error_code),
                    accepted_at = coalesce(d.accepted_at, now()),
                    completed_at = CASE WHEN delivery_state_rank(c.state) = 4 THEN now() ELSE d.completed_at END,
                    claimed_until = NULL,
                    updated_at = now(),
                    -- No more status checks once final; a message the carrier took ("sent") is checked on until it can be
                    -- settled as "sent, no receipt" (the callback may have come before the SID, which schedules the first check).
                    next_status_check_at = CASE
                        WHEN delivery_state_rank(c.state) = 4 THEN NULL
                        ELSE least(coalesce(d.next_status_check_at, now() + make_interval(secs => @statusCheck)),
                                   CASE WHEN c.state = 'sent' THEN coalesce(d.accepted_at, now()) + make_interval(secs => @noReceipt)
                                        ELSE 'infinity' END) END
                FROM unnest(@ids, @states, @sids, @errors) AS c (id, state, sid, error_code)
                WHERE d.id = c.id AND delivery_state_rank(d.state) < delivery_state_rank(c.state)
                RETURNING d.id, d.state, d.error_code, CASE WHEN d.twilio_sid IS NULL THEN c.sid END AS unkept_sid),
            queued AS (
                INSERT INTO carrier_deletions (sid, kind)
                SELECT unkept_sid, '{Carrier.ProviderDeletions.Delivery}' FROM moved WHERE unkept_sid <> '' ORDER BY unkept_sid
                ON CONFLICT (sid) DO NOTHING)
            SELECT id, state, error_code FROM moved
            """,
            new
            {
                ids = latest.Select(c => c.DeliveryId).ToArray(),
                states = latest.Select(c => c.State).ToArray(),
                sids = latest.Select(c => c.MessageSid).ToArray(),
                errors = latest.Select(c => c.ErrorCode).ToArray(),
                noReceipt = (double)options.Value.SentNoReceiptSeconds,
                statusCheck = (double)options.Value.StatusCheckSeconds,
            });

        // Only what this group moved: a repeated callback counts nothing twice.
        foreach (var outcome in moved.Where(m => m.State is DeliveryState.Failed or DeliveryState.Undelivered).GroupBy(m => m.ErrorCode))
        {
            metrics.Failed(outcome.Key, outcome.Count());
        }

        metrics.Delivered(moved.Count(m => m.State == DeliveryState.Delivered));

        // 21610 in a callback: the person had texted STOP to Twilio. Opt them out here too, but only for a callback
        // that moved its delivery: a replayed or invented old callback changes nobody's subscription.
        var optedOut = moved.Where(m => m.ErrorCode == TwilioErrors.OptedOut).Select(m => m.Id).ToArray();
        if (optedOut.Length > 0)
        {
            await using var connection = await db.OpenConnectionAsync(CancellationToken.None);
            await using var transaction = await connection.BeginTransactionAsync(CancellationToken.None);
            await Subscribers.OptOut.ApplyToRecipientsAsync(connection, transaction, optedOut, CancellationToken.None);
            await transaction.CommitAsync(CancellationToken.None);
        }
    }
}
