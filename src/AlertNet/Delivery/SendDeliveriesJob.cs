using System.Collections.Concurrent;
using System.Text.Json;
using AlertNet.Hosting;
using AlertNet.Infrastructure.Twilio;
using AlertNet.Privacy;
using Dapper;
using Hangfire;
using Microsoft.Extensions.Options;
using Npgsql;
using Twilio.Clients;
using Twilio.Exceptions;
using Twilio.Rest.Api.V2010.Account;
using Twilio.Types;

namespace AlertNet.Delivery;

/// <summary>Claims batches of an alert's deliveries (FOR UPDATE SKIP LOCKED, with a lease) and sends
/// each through the Twilio SDK until none is left. Several of these jobs, in any number of worker
/// processes, drain one alert together; a claim is what makes each delivery go out once.</summary>
public sealed class SendDeliveriesJob(
    NpgsqlDataSource db,
    ITwilioRestClient twilio,
    TwilioSettings twilioSettings,
    PersonalDataProtector protector,
    IBackgroundJobClient jobs,
    SenderThrottle throttle,
    IOptions<DeliveryOptions> deliveryOptions,
    IOptions<AlertNetOptions> appOptions,
    ILogger<SendDeliveriesJob> logger)
{
    private readonly DeliveryOptions _options = deliveryOptions.Value;

    [AutomaticRetry(Attempts = 5)]
    public async Task RunAsync(long alertId, CancellationToken cancellationToken)
    {
        var alert = await LoadAlertAsync(alertId, cancellationToken);
        while (alert is { State: "sending" } && !cancellationToken.IsCancellationRequested)
        {
            if (alert.ExpiresAt is { } expiry && expiry <= DateTime.UtcNow)
            {
                await ExpireRemainingAsync(alertId, cancellationToken);
                break;
            }

            var batch = await ClaimBatchAsync(alertId, cancellationToken);
            if (batch.Count == 0)
            {
                break;
            }

            await SendBatchAsync(alert, batch, cancellationToken);
            alert = await LoadAlertAsync(alertId, cancellationToken);
        }

        if (alert is { State: "sending" })
        {
            await FinishOrFollowUpAsync(alert, cancellationToken);
        }
    }

    private async Task SendBatchAsync(AlertToSend alert, List<ClaimedDelivery> batch, CancellationToken shutdown)
    {
        // Cancelling an alert stops new sends within a fraction of a second, in every process: each
        // batch watches the alert's state while it sends.
        using var cancelled = CancellationTokenSource.CreateLinkedTokenSource(shutdown);
        var watcher = WatchForCancelAsync(alert.Id, cancelled);
        var started = new ConcurrentDictionary<long, bool>();
        try
        {
            await Parallel.ForEachAsync(batch,
                new ParallelOptions { MaxDegreeOfParallelism = _options.ConcurrentRequests, CancellationToken = cancelled.Token },
                async (delivery, ct) =>
                {
                    await throttle.WaitAsync(alert.SegmentsFor(delivery.Language), alert.IsUrgent, ct);
                    started[delivery.Id] = true;
                    await SendOneAsync(alert, delivery);
                });
        }
        catch (OperationCanceledException) when (cancelled.IsCancellationRequested)
        {
            // Hand back what was claimed but never attempted: to the queue on shutdown, or marked
            // cancelled when the alert was cancelled.
            var untouched = batch.Where(d => !started.ContainsKey(d.Id)).Select(d => d.Id).ToArray();
            await using var connection = await db.OpenConnectionAsync(CancellationToken.None);
            await connection.ExecuteAsync(
                """
                UPDATE deliveries
                SET state = CASE WHEN @shutdown THEN 'pending' ELSE 'cancelled' END, claimed_until = NULL, updated_at = now(),
                    completed_at = CASE WHEN @shutdown THEN NULL ELSE now() END
                WHERE id = ANY(@untouched) AND state = 'sending' AND twilio_sid IS NULL
                """,
                new { untouched, shutdown = shutdown.IsCancellationRequested });
            shutdown.ThrowIfCancellationRequested();
        }
        finally
        {
            await cancelled.CancelAsync();
            await watcher;
        }
    }

    private async Task WatchForCancelAsync(long alertId, CancellationTokenSource cancelled)
    {
        try
        {
            while (!cancelled.IsCancellationRequested)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(250), cancelled.Token);
                await using var connection = await db.OpenConnectionAsync(cancelled.Token);
                var state = await connection.ExecuteScalarAsync<string>(new CommandDefinition(
                    "SELECT state FROM alerts WHERE id = @alertId", new { alertId }, cancellationToken: cancelled.Token));
                if (state == "cancelled")
                {
                    await cancelled.CancelAsync();
                }
            }
        }
        catch (OperationCanceledException)
        {
            // The batch is over, or the alert was cancelled: either way, stop watching.
        }
    }

    /// <summary>Once a delivery is handed to this method its outcome is always recorded, even while
    /// shutting down: a SID Twilio gave us must never be lost.</summary>
    private async Task SendOneAsync(AlertToSend alert, ClaimedDelivery delivery)
    {
        var cancellationToken = CancellationToken.None;
        if (delivery.OptedOut || delivery.PhoneCipher is null)
        {
            await SettleAsync(delivery.Id, DeliveryState.Skipped, null, cancellationToken);
            return;
        }

        var to = new SubscriberAddress(delivery.Channel, protector.Decrypt(delivery.PhoneCipher)).TwilioAddress;

        // A claim that expired while "sending" may have reached Twilio before its worker died:
        // ask Twilio before sending again.
        if (delivery.PreviousState == DeliveryState.Sending && delivery.PreviousClaimAt is { } claimedAt
            && await FindSentMessageAsync(to, claimedAt, cancellationToken) is { } existingSid)
        {
            await RecordAcceptedAsync(delivery.Id, existingSid, cancellationToken);
            logger.LogInformation("Delivery {DeliveryId} was already accepted by Twilio as {Sid}; adopted it", delivery.Id, existingSid);
            return;
        }

        var options = new CreateMessageOptions(new PhoneNumber(to))
        {
            Body = alert.BodyFor(delivery.Language),
            StatusCallback = new Uri(appOptions.Value.PublicUri, $"webhooks/twilio/status?deliveryId={delivery.Id}"),
        };
        if (twilioSettings.MessagingServiceSid is { } service)
        {
            options.MessagingServiceSid = service;
        }
        else
        {
            options.From = new PhoneNumber(delivery.Channel == SubscriberAddress.WhatsApp ? "whatsapp:" + twilioSettings.From : twilioSettings.From);
        }

        if (alert.ExpiresAt is { } expiresAt)
        {
            // Twilio drops a message still queued when it would arrive too late (1 to 36,000 s).
            options.ValidityPeriod = (int)Math.Clamp((expiresAt - DateTime.UtcNow).TotalSeconds, 1, 36000);
        }

        try
        {
            var message = await MessageResource.CreateAsync(options, twilio);
            await RecordAcceptedAsync(delivery.Id, message.Sid, cancellationToken);
        }
        catch (ApiException error)
        {
            await HandleApiErrorAsync(delivery, error, cancellationToken);
        }
        catch (Exception error) when (error is ApiConnectionException or HttpRequestException or TaskCanceledException)
        {
            // Ambiguous: Twilio may have accepted it. Keep the claim; when the short lease runs out the
            // next claimer asks Twilio first (above), and a status callback settles it sooner.
            logger.LogWarning("Delivery {DeliveryId}: no answer from Twilio ({Error}); will reconcile", delivery.Id, error.GetType().Name);
            await ShortenLeaseAsync(delivery.Id, cancellationToken);
        }
    }

    private async Task HandleApiErrorAsync(ClaimedDelivery delivery, ApiException error, CancellationToken cancellationToken)
    {
        var errorClass = TwilioErrors.Classify(error);
        logger.LogWarning("Delivery {DeliveryId}: Twilio error {Code} (HTTP {Status}), {Class}", delivery.Id, error.Code, error.Status, errorClass);
        switch (errorClass)
        {
            case TwilioErrorClass.Transient when delivery.Attempts < _options.MaxAttempts:
                await RetryLaterAsync(delivery.Id, delivery.Attempts, error.Code, cancellationToken);
                break;
            case TwilioErrorClass.OptedOut:
                await using (var connection = await db.OpenConnectionAsync(cancellationToken))
                {
                    await connection.ExecuteAsync(new CommandDefinition(
                        """
                        INSERT INTO opt_outs (phone_index)
                        SELECT phone_index FROM subscribers WHERE id = (SELECT subscriber_id FROM deliveries WHERE id = @id)
                        ON CONFLICT DO NOTHING;
                        UPDATE subscribers SET status = 'opted_out', updated_at = now()
                        WHERE phone_index = (SELECT s.phone_index FROM subscribers s JOIN deliveries d ON d.subscriber_id = s.id WHERE d.id = @id);
                        """,
                        new { id = delivery.Id }, cancellationToken: cancellationToken));
                }

                await SettleAsync(delivery.Id, DeliveryState.Failed, error.Code, cancellationToken);
                break;
            default:
                await SettleAsync(delivery.Id, DeliveryState.Failed, error.Code == 0 ? null : error.Code, cancellationToken);
                break;
        }
    }

    private async Task<string?> FindSentMessageAsync(string to, DateTime claimedAtUtc, CancellationToken cancellationToken)
    {
        // Filter by To only: a message still queued at Twilio has no DateSent and would escape a DateSent
        // filter. Twilio lists newest first, so the first page is enough; the SDK fetches further pages
        // with a blocking wait, which is why the limit matches the page size.
        var recent = await MessageResource.ReadAsync(new ReadMessageOptions { To = new PhoneNumber(to), PageSize = 20, Limit = 20 }, twilio);
        cancellationToken.ThrowIfCancellationRequested();
        // The SDK gives dates in local time.
        return recent.FirstOrDefault(m => m.DateCreated is { } created && created.ToUniversalTime() >= claimedAtUtc.AddSeconds(-5))?.Sid;
    }

    private async Task<List<ClaimedDelivery>> ClaimBatchAsync(long alertId, CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        var rows = await connection.QueryAsync<ClaimedDelivery>(new CommandDefinition(
            """
            UPDATE deliveries d
            SET state = 'sending', attempts = d.attempts + 1, claimed_at = now(),
                claimed_until = now() + make_interval(secs => @lease), updated_at = now()
            FROM (
                SELECT d.id, d.state AS previous_state, d.claimed_at AS previous_claim_at, s.phone_cipher,
                       (s.id IS NULL OR s.status <> 'active'
                        OR EXISTS (SELECT 1 FROM opt_outs o WHERE o.phone_index = s.phone_index)) AS opted_out
                FROM deliveries d
                LEFT JOIN subscribers s ON s.id = d.subscriber_id
                WHERE d.alert_id = @alertId
                  AND d.state IN ('pending', 'sending')
                  AND (d.claimed_until IS NULL OR d.claimed_until <= now())
                ORDER BY d.id
                LIMIT @batchSize
                FOR UPDATE OF d SKIP LOCKED
            ) c
            WHERE d.id = c.id
            RETURNING d.id, d.channel, d.language, d.attempts, c.previous_state AS previousstate,
                      c.previous_claim_at AS previousclaimat, c.phone_cipher AS phonecipher, c.opted_out AS optedout
            """,
            new { alertId, batchSize = _options.BatchSize, lease = (double)_options.ClaimLeaseSeconds },
            cancellationToken: cancellationToken));
        return rows.ToList();
    }

    private async Task RecordAcceptedAsync(long deliveryId, string sid, CancellationToken cancellationToken)
    {
        // A status callback may already have moved the row past "accepted": never move it back.
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        await connection.ExecuteAsync(new CommandDefinition(
            """
            UPDATE deliveries
            SET twilio_sid = coalesce(twilio_sid, @sid),
                state = CASE WHEN delivery_state_rank(state) < delivery_state_rank('accepted') THEN 'accepted' ELSE state END,
                accepted_at = coalesce(accepted_at, now()), claimed_until = NULL, updated_at = now()
            WHERE id = @deliveryId
            """,
            new { deliveryId, sid }, cancellationToken: cancellationToken));
    }

    private async Task SettleAsync(long deliveryId, string state, int? errorCode, CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        await connection.ExecuteAsync(new CommandDefinition(
            """
            UPDATE deliveries SET state = @state, error_code = @errorCode, claimed_until = NULL, updated_at = now(), completed_at = now()
            WHERE id = @deliveryId AND state = 'sending'
            """,
            new { deliveryId, state, errorCode }, cancellationToken: cancellationToken));
    }

    private async Task RetryLaterAsync(long deliveryId, int attempts, int errorCode, CancellationToken cancellationToken)
    {
        var backoff = Math.Min(60, Math.Pow(2, attempts)) * (0.75 + Random.Shared.NextDouble() / 2);
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        await connection.ExecuteAsync(new CommandDefinition(
            """
            UPDATE deliveries SET state = 'pending', error_code = @errorCode, claimed_until = now() + make_interval(secs => @backoff), updated_at = now()
            WHERE id = @deliveryId AND state = 'sending'
            """,
            new { deliveryId, errorCode, backoff }, cancellationToken: cancellationToken));
    }

    private async Task ShortenLeaseAsync(long deliveryId, CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        await connection.ExecuteAsync(new CommandDefinition(
            "UPDATE deliveries SET claimed_until = now() + interval '10 seconds' WHERE id = @deliveryId AND state = 'sending'",
            new { deliveryId }, cancellationToken: cancellationToken));
    }

    private async Task ExpireRemainingAsync(long alertId, CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        await connection.ExecuteAsync(new CommandDefinition(
            """
            UPDATE deliveries SET state = 'expired', claimed_until = NULL, updated_at = now(), completed_at = now()
            WHERE alert_id = @alertId AND state = 'pending'
            """,
            new { alertId }, cancellationToken: cancellationToken));
    }

    /// <summary>When nothing is claimable: either the alert is done, or some deliveries wait for a
    /// retry or a lease; then one follow-up job is scheduled for when the first of them is due.</summary>
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

    private async Task<AlertToSend?> LoadAlertAsync(long alertId, CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        var row = await connection.QuerySingleOrDefaultAsync<(long Id, string Type, string State, string Bodies, DateTime? ExpiresAt)?>(new CommandDefinition(
            "SELECT id, type, state, bodies::text, expires_at FROM alerts WHERE id = @alertId", new { alertId }, cancellationToken: cancellationToken));
        return row is { } r
            ? new AlertToSend(r.Id, r.Type, r.State, JsonSerializer.Deserialize<Dictionary<string, string>>(r.Bodies)!, r.ExpiresAt,
                appOptions.Value.DefaultLanguage)
            : null;
    }

    private sealed record AlertToSend(long Id, string Type, string State, Dictionary<string, string> Bodies, DateTime? ExpiresAt,
        string DefaultLanguage)
    {
        // Sent as counted: with Twilio's smart-encoding substitutions already applied.
        private readonly Dictionary<string, SegmentCount> _sms = Bodies.ToDictionary(b => b.Key, b => SmsSegments.Analyze(b.Value));

        public bool IsUrgent => Lane == Infrastructure.Jobs.Lanes.Urgent;

        public string Lane => Alerts.AlertType.Lane(Type);

        public string BodyFor(string language) => For(language).SentText;

        public int SegmentsFor(string language) => For(language).Segments;

        /// <summary>The subscriber's language, else the organization's default, else any text the alert has.</summary>
        private SegmentCount For(string language) =>
            _sms.TryGetValue(language, out var body) ? body
            : _sms.TryGetValue(DefaultLanguage, out body) ? body
            : _sms.Values.First();
    }

    private sealed record ClaimedDelivery(long Id, string Channel, string Language, int Attempts, string PreviousState,
        DateTime? PreviousClaimAt, byte[]? PhoneCipher, bool OptedOut);
}
