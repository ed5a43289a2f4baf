using AlertNet.Carrier;
using AlertNet.Hosting;
using AlertNet.Privacy;
using Dapper;
using Microsoft.Extensions.Options;
using Npgsql;

namespace AlertNet.Subscribers;

/// <summary>Replies to texts, sent through the provider's REST API so that each one has a SID AlertNet can delete at the
/// provider once it is final (a TwiML reply would leave a message record nobody knows the SID of). A reply is written in
/// the same transaction as whatever the text changed, so it exists exactly when that change does, and sent right after
/// the commit; the inbound webhook waits for that (briefly, <see cref="CarrierOptions.ReplyWaitSeconds"/>). If the
/// process dies or the provider is down, the background loop here sends it later, never twice: a send that got no
/// answer is looked for at the provider first, as deliveries are. A reply not sent within an hour is dropped.</summary>
public sealed class ReplyOutbox(
    NpgsqlDataSource db,
    PersonalDataProtector protector,
    CarrierClient carrier,
    IOptions<CarrierOptions> carrierOptions,
    IOptions<AlertNetOptions> appOptions,
    ILogger<ReplyOutbox> logger) : BackgroundService
{
    public static readonly TimeSpan Lifetime = TimeSpan.FromHours(1);
    private static readonly TimeSpan Lease = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan SweepInterval = TimeSpan.FromSeconds(2);

    /// <summary>Writes a reply to <paramref name="to"/> in the caller's transaction; send it after the commit with
    /// <see cref="SendAfterCommitAsync"/>.</summary>
    public async Task<long> QueueAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, SubscriberAddress to, string body,
        CancellationToken cancellationToken)
    {
        var id = await RowIds.NextAsync(connection, transaction, "outbound_replies", cancellationToken);
        await connection.ExecuteAsync(new CommandDefinition(
            """
            INSERT INTO outbound_replies (id, channel, to_cipher, body_cipher, expires_at) OVERRIDING SYSTEM VALUE
            VALUES (@id, @channel, @to, @body, now() + @lifetime)
            """,
            new
            {
                id,
                channel = to.Channel,
                to = protector.Encrypt(to.E164, CipherPlaces.ReplyNumber(id)),
                body = protector.Encrypt(body, CipherPlaces.ReplyText(id)),
                lifetime = Lifetime,
            },
            transaction, cancellationToken: cancellationToken));
        return id;
    }

    /// <summary>Sends a queued reply now, waiting at most <see cref="CarrierOptions.ReplyWaitSeconds"/>; the send goes on
    /// in the background if it takes longer, and the loop here retries it if it fails.</summary>
    public async Task SendAfterCommitAsync(long replyId)
    {
        var sending = Task.Run(() => SendAsync(replyId));
        await Task.WhenAny(sending, Task.Delay(TimeSpan.FromSeconds(carrierOptions.Value.ReplyWaitSeconds)));
    }

    /// <summary>Queues and sends a reply outside any other transaction (an answer computed after a commit).</summary>
    public async Task SendAsync(SubscriberAddress to, string body)
    {
        long id;
        await using (var connection = await db.OpenConnectionAsync(CancellationToken.None))
        {
            id = await QueueAsync(connection, null, to, body, CancellationToken.None);
        }

        await SendAfterCommitAsync(id);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(SweepInterval);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                await SendDueAsync(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception error)
            {
                logger.LogWarning("Sending queued replies failed: {Error}", error.GetType().Name);
            }
        }
    }

    /// <summary>Replies whose fast path did not finish (a crash, an outage), and expired ones dropped.</summary>
    public async Task SendDueAsync(CancellationToken cancellationToken)
    {
        if (carrier.Circuit.RetryAfter > TimeSpan.Zero)
        {
            return;
        }

        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        var dropped = await connection.ExecuteAsync(new CommandDefinition(
            "DELETE FROM outbound_replies WHERE expires_at < now() AND unconfirmed_since IS NULL", cancellationToken: cancellationToken));
        if (dropped > 0)
        {
            logger.LogWarning("Dropped {Count} replies that could not be sent within {Hours} h", dropped, Lifetime.TotalHours);
        }

        var due = (await connection.QueryAsync<long>(new CommandDefinition(
            """
            SELECT id FROM outbound_replies
            WHERE (claimed_until IS NULL AND created_at < now() - interval '5 seconds') OR claimed_until <= now()
            ORDER BY id LIMIT 100
            """,
            cancellationToken: cancellationToken))).ToList();
        foreach (var id in due)
        {
            await SendAsync(id);
        }
    }

    private async Task SendAsync(long replyId)
    {
        try
        {
            await using var connection = await db.OpenConnectionAsync(CancellationToken.None);
            var reply = await connection.QuerySingleOrDefaultAsync<Claimed>(new CommandDefinition(
                """
                UPDATE outbound_replies
                SET state = 'sending', attempts = attempts + 1, claimed_at = now(), claimed_until = now() + @lease,
                    unconfirmed_since = CASE WHEN state = 'sending' THEN coalesce(unconfirmed_since, claimed_at) ELSE unconfirmed_since END
                WHERE id = @replyId AND (claimed_until IS NULL OR claimed_until <= now())
                RETURNING id, channel, to_cipher AS tocipher, body_cipher AS bodycipher, unconfirmed_since AS unconfirmedsince,
                          expires_at < now() AS expired
                """,
                new { replyId, lease = Lease }));
            if (reply is null)
            {
                return; // another process has it, or it is done
            }

            await SendClaimedAsync(connection, reply);
        }
        catch (Exception error)
        {
            // Never lost: the row stays and the loop tries again when the claim runs out.
            logger.LogWarning("Reply {ReplyId}: could not be sent now ({Error})", replyId, error.GetType().Name);
        }
    }

    private async Task SendClaimedAsync(NpgsqlConnection connection, Claimed reply)
    {
        var to = protector.Decrypt(reply.ToCipher, CipherPlaces.ReplyNumber(reply.Id));
        var address = reply.Channel == SubscriberAddress.WhatsApp ? SubscriberAddress.WhatsAppPrefix + to : to;
        var body = protector.Decrypt(reply.BodyCipher, CipherPlaces.ReplyText(reply.Id));
        try
        {
            if (reply.UnconfirmedSince is { } since
                && await carrier.FindSentAsync(address, reply.Channel, body, since, DateTime.UtcNow, sids => ProviderDeletions.KnownAsync(db, sids)) is { } existing)
            {
                await AcceptedAsync(connection, reply.Id, existing);
                return;
            }

            if (reply.Expired)
            {
                await DropAsync(connection, reply.Id);
                return;
            }

            var sid = await carrier.SendAsync(new OutboundMessage(address, body,
                new Uri(appOptions.Value.PublicUri, "webhooks/twilio/status?kind=" + ProviderDeletions.Reply)), reply.Channel);
            await AcceptedAsync(connection, reply.Id, sid);
        }
        catch (CarrierException error) when (error.MayHaveSucceeded || error.Operation == "find")
        {
            // It may have gone out (or we could not ask): keep the claim; the next claimer asks the provider first.
            logger.LogDebug("Reply {ReplyId}: {Operation} failed ({Failure}); the provider will be asked before any new attempt",
                reply.Id, error.Operation, error.Failure);
            await connection.ExecuteAsync("UPDATE outbound_replies SET claimed_until = now() + interval '10 seconds' WHERE id = @id",
                new { id = reply.Id });
        }
        catch (CarrierException error) when (error.Failure != CarrierFailure.Refused)
        {
            // Not sent: the provider is down or busy. Back to the queue for the loop.
            logger.LogDebug("Reply {ReplyId}: {Operation} failed ({Failure}); it waits in the queue", reply.Id, error.Operation, error.Failure);
            await connection.ExecuteAsync(
                "UPDATE outbound_replies SET state = 'pending', claimed_until = now() + @wait, unconfirmed_since = NULL WHERE id = @id",
                new { id = reply.Id, wait = carrier.Circuit.RetryAfter > TimeSpan.FromSeconds(2) ? carrier.Circuit.RetryAfter : TimeSpan.FromSeconds(2) });
        }
        catch (CarrierException error)
        {
            logger.LogWarning("Reply {ReplyId} refused by the provider with error {Code}", reply.Id, error.Code);
            await using var transaction = await connection.BeginTransactionAsync();
            if (error.Code == Delivery.TwilioErrors.OptedOut)
            {
                // The person texted STOP to the provider itself: opt them out here too (the one opt-out routine).
                await OptOut.ApplyAsync(connection, transaction, [protector.BlindIndex(to)], CancellationToken.None);
            }

            await connection.ExecuteAsync("DELETE FROM outbound_replies WHERE id = @id", new { id = reply.Id }, transaction);
            await transaction.CommitAsync();
        }
    }

    /// <summary>The provider has the reply: the row goes, and its SID waits in the deletion queue (a couple of minutes:
    /// a reply is usually delivered by then, and its final status callback brings the deletion forward).</summary>
    private static async Task AcceptedAsync(NpgsqlConnection connection, long id, string sid)
    {
        await using var transaction = await connection.BeginTransactionAsync();
        await connection.ExecuteAsync("DELETE FROM outbound_replies WHERE id = @id", new { id }, transaction);
        await ProviderDeletions.QueueAsync(connection, transaction, [sid], ProviderDeletions.Reply, CancellationToken.None, TimeSpan.FromMinutes(2));
        await transaction.CommitAsync();
    }

    private static Task<int> DropAsync(NpgsqlConnection connection, long id) =>
        connection.ExecuteAsync("DELETE FROM outbound_replies WHERE id = @id", new { id });

    private sealed record Claimed(long Id, string Channel, byte[] ToCipher, byte[] BodyCipher, DateTime? UnconfirmedSince, bool Expired);
}
