using Microsoft.Extensions.Options;
using Npgsql;

namespace AlertNet.Delivery;

/// <summary>Twilio took a message: its SID, written back in groups. The sender waits for the commit; a
/// worker dying before it (or a database crash losing it, see QueryWithRelaxedCommitAsync) leaves the
/// delivery claimed, and the next claimer finds the message at Twilio instead of sending again.</summary>
public sealed class AcceptedWriter(NpgsqlDataSource db, IOptions<DeliveryOptions> options, ILogger<AcceptedWriter> logger)
    : GroupCommitWriter<AcceptedWriter.Accepted>(logger)
{
    public sealed record Accepted(long DeliveryId, string Sid, string Channel);

    protected override async Task WriteGroupAsync(IReadOnlyList<Accepted> group)
    {
        // A status callback may already have moved a row past "accepted": the state only moves forward.
        // Rows in id order, so that two writers updating overlapping rows lock them in the same order.
        var ordered = group.OrderBy(a => a.DeliveryId).ToList();
        await QueryWithRelaxedCommitAsync<int>(
            db,
            $"""
            WITH written AS (
                UPDATE deliveries d
                -- The SID is kept only while the message is on its way: with the provider's credentials a SID gives the
                -- number back. A delivery whose subscriber was purged meanwhile, or whose final status came before its SID,
                -- keeps none; its message is queued for deletion at the provider instead.
                SET twilio_sid = CASE WHEN d.subscriber_id IS NULL OR delivery_state_rank(d.state) = 4 THEN NULL
                                      ELSE coalesce(d.twilio_sid, c.sid) END,
                    channel = c.channel,
                    state = CASE WHEN delivery_state_rank(d.state) < delivery_state_rank('accepted') THEN 'accepted' ELSE d.state END,
                    accepted_at = coalesce(d.accepted_at, now()), claimed_until = NULL, updated_at = now(),
                    next_status_check_at = coalesce(d.next_status_check_at, now() + make_interval(secs => @statusCheck))
                FROM unnest(@ids, @sids, @channels) AS c (id, sid, channel)
                WHERE d.id = c.id
                RETURNING c.sid, d.twilio_sid IS NULL AS unkept)
            INSERT INTO carrier_deletions (sid, kind)
            SELECT sid, '{Carrier.ProviderDeletions.Delivery}' FROM written WHERE unkept ORDER BY sid
            ON CONFLICT (sid) DO NOTHING
            """,
            new
            {
                ids = ordered.Select(a => a.DeliveryId).ToArray(),
                sids = ordered.Select(a => a.Sid).ToArray(),
                channels = ordered.Select(a => a.Channel).ToArray(),
                statusCheck = (double)options.Value.StatusCheckSeconds,
            });
    }
}
