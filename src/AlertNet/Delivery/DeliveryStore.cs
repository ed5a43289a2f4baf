using Dapper;
using Microsoft.Extensions.Options;
using Npgsql;

namespace AlertNet.Delivery;

/// <summary>A delivery claimed for sending, with what the sender needs to know about its recipient.
/// <see cref="UnconfirmedSince"/> is set when an earlier attempt may have reached the provider unanswered: ask before sending.</summary>
public sealed record ClaimedDelivery(long Id, string Channel, string Language, int Attempts, DateTime? UnconfirmedSince,
    byte[]? PhoneCipher, bool OptedOut, DateTime? LastInboundAt, bool HasSms, DateTime ClaimedAt, long? SubscriberId);

/// <summary>The deliveries table as the sending side changes it. Every write is guarded by the state it
/// expects, so two workers, a sweeper and a status callback can never move a delivery backwards.</summary>
public sealed class DeliveryStore(NpgsqlDataSource db, AcceptedWriter accepted, IOptions<DeliveryOptions> options)
{
    /// <summary>Claims up to BatchSize due deliveries of an alert with ids above <paramref name="afterId"/>,
    /// with a lease (FOR UPDATE SKIP LOCKED: concurrent claimers in any process take disjoint rows).
    /// A job passes the last id it claimed: the index entries of rows already sent stay behind until
    /// vacuum, and starting past them keeps each claim's cost flat instead of growing with the alert.</summary>
    public async Task<List<ClaimedDelivery>> ClaimBatchAsync(long alertId, long afterId, CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        var rows = await connection.QueryAsync<ClaimedDelivery>(new CommandDefinition(
            """
            UPDATE deliveries d
            SET state = 'sending', attempts = d.attempts + 1, claimed_at = now(),
                claimed_until = now() + make_interval(secs => @lease), updated_at = now(),
                -- Taken over from a claim that ran out while sending: that attempt may have reached the provider.
                unconfirmed_since = CASE WHEN c.previous_state = 'sending' THEN coalesce(d.unconfirmed_since, c.previous_claim_at)
                                         ELSE d.unconfirmed_since END
            FROM (
                SELECT d.id, d.state AS previous_state, d.claimed_at AS previous_claim_at, s.phone_cipher,
                       -- WhatsApp's 24-hour session window opens with the subscriber's last message to us.
                       s.last_whatsapp_inbound_at AS last_inbound_at,
                       (s.id IS NULL OR s.status <> 'active'
                        OR EXISTS (SELECT 1 FROM opt_outs o WHERE o.phone_index = s.phone_index)) AS opted_out,
                       EXISTS (SELECT 1 FROM subscribers x
                               WHERE x.phone_index = s.phone_index AND x.channel = 'sms' AND x.status = 'active') AS has_sms
                FROM deliveries d
                LEFT JOIN subscribers s ON s.id = d.subscriber_id
                WHERE d.alert_id = @alertId AND d.id > @afterId
                  AND d.state IN ('pending', 'sending')
                  AND (d.claimed_until IS NULL OR d.claimed_until <= now())
                ORDER BY d.id
                LIMIT @batchSize
                FOR UPDATE OF d SKIP LOCKED
            ) c
            WHERE d.id = c.id
            RETURNING d.id, d.channel, d.language, d.attempts, d.unconfirmed_since AS unconfirmedsince,
                      c.phone_cipher AS phonecipher, c.opted_out AS optedout,
                      c.last_inbound_at AS lastinboundat, c.has_sms AS hassms, d.claimed_at AS claimedat, d.subscriber_id AS subscriberid
            """,
            new { alertId, afterId, batchSize = options.Value.BatchSize, lease = (double)options.Value.ClaimLeaseSeconds },
            cancellationToken: cancellationToken));
        return rows.ToList();
    }

    /// <summary>Extends the lease of this claim's deliveries still waiting to be sent; returns those this claim still
    /// holds (a delivery another claimer took over after the lease ran out is not among them).</summary>
    public async Task<HashSet<long>> RenewClaimAsync(long[] deliveryIds, DateTime claimedAt, CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        var held = await connection.QueryAsync<long>(new CommandDefinition(
            """
            UPDATE deliveries SET claimed_until = now() + make_interval(secs => @lease)
            WHERE id = ANY(@deliveryIds) AND state = 'sending' AND claimed_at = @claimedAt
            RETURNING id
            """,
            new { deliveryIds, claimedAt, lease = (double)options.Value.ClaimLeaseSeconds }, cancellationToken: cancellationToken));
        return held.ToHashSet();
    }

    /// <summary>Twilio took the message: keep its SID (in a group write; see AcceptedWriter).</summary>
    public Task RecordAcceptedAsync(long deliveryId, string sid, string channel) =>
        accepted.WriteAsync(new AcceptedWriter.Accepted(deliveryId, sid, channel), CancellationToken.None);

    public Task SettleAsync(long deliveryId, string state, int? errorCode) => ExecuteAsync(
        """
        UPDATE deliveries SET state = @state, error_code = @errorCode, claimed_until = NULL, updated_at = now(), completed_at = now()
        WHERE id = @deliveryId AND state = 'sending'
        """,
        new { deliveryId, state, errorCode });

    /// <summary>Back to the queue after a transient error, not before an exponential, jittered backoff. The provider
    /// refused this attempt outright, and any earlier unanswered one was looked for first: none is in doubt any more.</summary>
    public Task RetryLaterAsync(long deliveryId, int attempts, int errorCode) => ExecuteAsync(
        """
        UPDATE deliveries SET state = 'pending', error_code = @errorCode, claimed_until = now() + make_interval(secs => @backoff),
            unconfirmed_since = NULL, updated_at = now()
        WHERE id = @deliveryId AND state = 'sending'
        """,
        new { deliveryId, errorCode, backoff = Math.Min(60, Math.Pow(2, attempts)) * (0.75 + Random.Shared.NextDouble() / 2) });

    /// <summary>Not sent because the provider is down, busy or its circuit is open: back to the queue after
    /// <paramref name="delay"/>, without spending one of the message's attempts (an outage is nobody's message's fault,
    /// and a long one must not use up retries).</summary>
    public Task ReleaseUnsentAsync(long deliveryId, TimeSpan delay, int? errorCode) => ExecuteAsync(
        """
        UPDATE deliveries SET state = 'pending', attempts = greatest(attempts - 1, 0), error_code = coalesce(@errorCode, error_code),
            claimed_until = now() + make_interval(secs => @delay), unconfirmed_since = NULL, updated_at = now()
        WHERE id = @deliveryId AND state = 'sending'
        """,
        new { deliveryId, delay = delay.TotalSeconds, errorCode });

    /// <summary>No answer from the provider (or no way to ask it yet): keep the claim, but let another claimer reconcile it
    /// after <paramref name="after"/>.</summary>
    public Task ShortenLeaseAsync(long deliveryId, TimeSpan after) => ExecuteAsync(
        "UPDATE deliveries SET claimed_until = now() + make_interval(secs => @after) WHERE id = @deliveryId AND state = 'sending'",
        new { deliveryId, after = after.TotalSeconds });

    /// <summary>See <see cref="Carrier.ProviderDeletions.KnownAsync"/>.</summary>
    public Task<IReadOnlySet<string>> KnownSidsAsync(IReadOnlyCollection<string> sids) => Carrier.ProviderDeletions.KnownAsync(db, sids);


    /// <summary>Twilio's 21610 at the API: the person texted STOP to Twilio. Opt the number out here too (the one opt-out
    /// routine), and settle this delivery as failed with the code, in one transaction.</summary>
    public async Task OptOutRecipientAsync(long deliveryId, int errorCode)
    {
        await using var connection = await db.OpenConnectionAsync(CancellationToken.None);
        await using var transaction = await connection.BeginTransactionAsync(CancellationToken.None);
        await connection.ExecuteAsync(new CommandDefinition(
            """
            UPDATE deliveries SET state = 'failed', error_code = @errorCode, claimed_until = NULL, updated_at = now(), completed_at = now()
            WHERE id = @deliveryId AND state = 'sending'
            """,
            new { deliveryId, errorCode }, transaction));
        await Subscribers.OptOut.ApplyToRecipientsAsync(connection, transaction, [deliveryId], CancellationToken.None);
        await transaction.CommitAsync(CancellationToken.None);
    }

    /// <summary>The deliveries of these subscribers still waiting in any alert will not be sent (they opted out).</summary>
    public static Task SkipPendingAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, long[] subscriberIds,
        CancellationToken cancellationToken) =>
        connection.ExecuteAsync(new CommandDefinition(
            $"""
            UPDATE deliveries SET state = '{DeliveryState.Skipped}', claimed_until = NULL, updated_at = now(), completed_at = now()
            WHERE state = '{DeliveryState.Pending}' AND subscriber_id = ANY(@subscriberIds)
            """,
            new { subscriberIds }, transaction, cancellationToken: cancellationToken));

    public Task ExpireRemainingAsync(long alertId) => ExecuteAsync(
        """
        UPDATE deliveries SET state = 'expired', claimed_until = NULL, updated_at = now(), completed_at = now()
        WHERE alert_id = @alertId AND state = 'pending'
        """,
        new { alertId });

    /// <summary>Claimed rows never attempted: back to the queue (shutting down) or cancelled (alert cancelled).</summary>
    public Task ReleaseAsync(long[] deliveryIds, bool cancelled) => ExecuteAsync(
        """
        UPDATE deliveries
        SET state = CASE WHEN @cancelled THEN 'cancelled' ELSE 'pending' END, claimed_until = NULL, updated_at = now(),
            completed_at = CASE WHEN @cancelled THEN now() END
        WHERE id = ANY(@deliveryIds) AND state = 'sending' AND twilio_sid IS NULL
        """,
        new { deliveryIds, cancelled });

    // Outcomes are written even while shutting down: a SID Twilio gave us must never be lost.
    private async Task ExecuteAsync(string sql, object parameters)
    {
        await using var connection = await db.OpenConnectionAsync(CancellationToken.None);
        await connection.ExecuteAsync(sql, parameters);
    }
}
