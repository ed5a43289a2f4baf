using Npgsql;

namespace AlertNet.Delivery;

/// <summary>Twilio took a message: its SID, written back in groups. The sender waits for the commit; a
/// worker dying before it (or a database crash losing it, see QueryWithRelaxedCommitAsync) leaves the
/// delivery claimed, and the next claimer finds the message at Twilio instead of sending again.</summary>
public sealed class AcceptedWriter(NpgsqlDataSource db, ILogger<AcceptedWriter> logger)
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
            """
            UPDATE deliveries d
            -- A delivery whose subscriber was purged while its message was in flight keeps no SID: with Twilio's
            -- credentials a SID gives the number back.
            SET twilio_sid = CASE WHEN d.subscriber_id IS NULL THEN NULL ELSE coalesce(d.twilio_sid, c.sid) END, channel = c.channel,
                state = CASE WHEN delivery_state_rank(d.state) < delivery_state_rank('accepted') THEN 'accepted' ELSE d.state END,
                accepted_at = coalesce(d.accepted_at, now()), claimed_until = NULL, updated_at = now()
            FROM unnest(@ids, @sids, @channels) AS c (id, sid, channel)
            WHERE d.id = c.id
            """,
            new
            {
                ids = ordered.Select(a => a.DeliveryId).ToArray(),
                sids = ordered.Select(a => a.Sid).ToArray(),
                channels = ordered.Select(a => a.Channel).ToArray(),
            });
    }
}
