using AlertNet.Hosting;
using AlertNet.Hotline;
using AlertNet.Infrastructure.Twilio;
using AlertNet.Privacy;
using Dapper;
using Mediator;
using Microsoft.Extensions.Options;
using Npgsql;
using Twilio.TwiML;

namespace AlertNet.Subscribers;

/// <summary>A text from a subscriber, as Twilio posts it to /webhooks/twilio/inbound. The reply (null for silence) is
/// sent through the provider's REST API (<see cref="ReplyOutbox"/>), so that it can be deleted there like any message;
/// the handler returns its text.</summary>
public sealed record ReceiveInboundMessage(string MessageSid, SubscriberAddress From, string? Body, string? OptOutType)
    : Mediator.ICommand<string?>;

public sealed class ReceiveInboundMessageHandler(NpgsqlDataSource db, PersonalDataProtector protector, Replies replies,
    ReceiveReport reports, ProposeSmsAlert proposeAlert, ConfirmSmsAlert confirmAlert, ReplyOutbox outbox, SenderLimits limits,
    IOptions<AlertNetOptions> options)
    : ICommandHandler<ReceiveInboundMessage, string?>
{
    /// <summary>Text AlertNet does not understand gets a hint at most this often per number; otherwise silence.</summary>
    public static readonly TimeSpan HintInterval = TimeSpan.FromDays(1);

    public async ValueTask<string?> Handle(ReceiveInboundMessage message, CancellationToken cancellationToken)
    {
        var keyword = Keywords.Parse(message.Body, message.OptOutType);
        var phoneIndex = protector.BlindIndex(message.From.E164);

        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        // During a key rotation the sender's rows may still be under an older key: move them first, so every
        // lookup below by the current index finds them all.
        await KeyRotation.MoveNumberAsync(connection, transaction, protector, message.From.E164, cancellationToken);

        // Twilio retries a webhook it thinks failed: the MessageSid makes a retry a no-op. Only a keyed hash of it
        // is kept (under any key of the ring, so a retry across a key change is still recognized); rows written
        // before migration 0020 hold the raw SID until rotate-keys hashes it.
        // The row keeps no link to the sender: nothing reads one (docs/threat-model.md).
        var id = await RowIds.NextAsync(connection, transaction, "inbound_messages", cancellationToken);
        var isNew = await connection.ExecuteAsync(new CommandDefinition(
            """
            INSERT INTO inbound_messages (id, sid_hash, channel, body_cipher) OVERRIDING SYSTEM VALUE
            SELECT @id, @sidHash, @channel, @body
            WHERE NOT EXISTS (SELECT 1 FROM inbound_messages WHERE sid_hash = ANY (@olderSidHashes) OR message_sid = @sid)
            ON CONFLICT (sid_hash) DO NOTHING
            """,
            new
            {
                id,
                sidHash = protector.PurposeIndex(IndexPurpose.InboundMessageSid, message.MessageSid),
                olderSidHashes = protector.OlderPurposeIndexes(IndexPurpose.InboundMessageSid, message.MessageSid),
                sid = message.MessageSid,
                channel = message.From.Channel,
                body = string.IsNullOrEmpty(message.Body) ? null : protector.Encrypt(message.Body, CipherPlaces.InboundText(id)),
            },
            transaction, cancellationToken: cancellationToken)) == 1;
        if (!isNew)
        {
            return null;
        }

        // Whatever it said, the text is not left at the provider once processed. The raw MessageSid is known only here:
        // only a new message gets here, once, and the queue row commits exactly when the message is recorded. The queue
        // keeps the raw SID until the provider confirms the deletion; inbound_messages never holds it.
        await Carrier.ProviderDeletions.QueueAsync(connection, transaction, [message.MessageSid], Carrier.ProviderDeletions.Inbound,
            cancellationToken);
        var conversation = new Conversation(connection, transaction, message, phoneIndex, protector, replies, reports, proposeAlert,
            confirmAlert, limits, id, options.Value);
        var reply = await conversation.AnswerAsync(keyword, cancellationToken);
        reply = await WithinLimitsAsync(connection, transaction, message.From, reply, cancellationToken);
        if (message.From.Channel == SubscriberAddress.WhatsApp)
        {
            // After the answer, so a JOIN's new subscription has its window open too.
            await SubscriberStore.RecordWhatsAppInboundAsync(connection, transaction, phoneIndex, cancellationToken);
        }

        // The reply commits with what the text changed: it exists exactly when that change does.
        long? replyId = reply is null ? null : await outbox.QueueAsync(connection, transaction, message.From, reply, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        if (replyId is { } queued)
        {
            await outbox.SendAfterCommitAsync(queued);
        }

        if (conversation.AfterCommit is { } next)
        {
            reply = await next();
            await outbox.SendAsync(message.From, reply);
        }

        return reply;
    }

    /// <summary>A reply goes out only to an allowed country, and only while the number's hourly reply budget lasts: a
    /// flood of texts from one number (or SMS pumping from numbers abroad) gets silence, and costs nothing more.</summary>
    private async Task<string?> WithinLimitsAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, SubscriberAddress from,
        string? reply, CancellationToken cancellationToken)
    {
        if (reply is null)
        {
            return null;
        }

        if (!limits.IsAllowedCountry(from))
        {
            limits.Refused("country");
            return null;
        }

        if (await limits.TakeAsync(connection, transaction, from, SenderLimits.Reply, cancellationToken) > limits.RepliesPerHour)
        {
            limits.Refused("replies");
            return null;
        }

        return reply;
    }

    /// <summary>One inbound text and what AlertNet answers. An opted-out number hears nothing more, except
    /// the answer to HELP and to an explicit JOIN or START. Organizer commands (ALERT, YES with a code) exist only
    /// for registered organizer phones: from any other number they are ordinary text, and get the ordinary answer.</summary>
    private sealed class Conversation(NpgsqlConnection connection, NpgsqlTransaction transaction, ReceiveInboundMessage message,
        byte[] phoneIndex, PersonalDataProtector protector, Replies replies, ReceiveReport reports, ProposeSmsAlert proposeAlert,
        ConfirmSmsAlert confirmAlert, SenderLimits limits, long inboundId, AlertNetOptions options)
    {
        /// <summary>Each alert quoted by LATEST is cut to this, so three fit in one reply.</summary>
        private const int LatestTextLength = 300;

        private string? _known;

        /// <summary>What still has to happen once the transaction has committed (an alert confirmed by code), and the reply.</summary>
        public Func<Task<string>>? AfterCommit { get; private set; }

        public async Task<string?> AnswerAsync(KeywordMatch keyword, CancellationToken cancellationToken)
        {
            _known = await SubscriberStore.LanguageAsync(connection, transaction, phoneIndex, cancellationToken);
            switch (keyword.Kind)
            {
                case KeywordKind.Join:
                    var group = await SubscriberStore.FindGroupAsync(connection, transaction,
                        keyword.Argument.Length == 0 ? null : keyword.Argument, cancellationToken);
                    return group is null
                        ? replies.Get("unknownGroup", keyword.Language ?? _known)
                        : await JoinAsync(group, keyword.Language, cancellationToken);

                case KeywordKind.OptOut:
                    // One confirmation, then silence: a second STOP gets nothing.
                    var firstTime = await OptOut.ApplyAsync(connection, transaction, [phoneIndex], cancellationToken) == 1;
                    return firstTime ? replies.Get("optOut", _known ?? keyword.Language) : null;

                case KeywordKind.LeaveGroup:
                    if (await SubscriberStore.FindGroupAsync(connection, transaction, keyword.Argument, cancellationToken) is not { } left)
                    {
                        return await HintAsync(cancellationToken);
                    }

                    if (await OptedOutAsync(cancellationToken))
                    {
                        return null;
                    }

                    await SubscriberStore.LeaveGroupAsync(connection, transaction, phoneIndex, left.Id, cancellationToken);
                    return replies.Get("leftGroup", _known ?? keyword.Language, left.Name);

                case KeywordKind.OptIn:
                    var confirmed = await SubscriberStore.ConfirmPendingAsync(connection, transaction, phoneIndex, cancellationToken);
                    if (confirmed.Count > 0)
                    {
                        return replies.Get("confirmed", _known ?? keyword.Language, string.Join(", ", confirmed));
                    }

                    if (!limits.IsAllowedCountry(message.From))
                    {
                        limits.Refused("country"); // START re-subscribes: as JOIN, not from elsewhere
                        return null;
                    }

                    var wasSubscribed = await SubscriberStore.OptInAsync(connection, transaction, phoneIndex, cancellationToken);
                    return wasSubscribed ? replies.Get("optIn", _known ?? keyword.Language) : replies.Get("help", keyword.Language);

                case KeywordKind.Help:
                    return replies.Get("help", _known ?? keyword.Language);

                case KeywordKind.Language:
                    var changed = await SubscriberStore.SetLanguageAsync(connection, transaction, phoneIndex, keyword.Language!, cancellationToken);
                    return await OptedOutAsync(cancellationToken) ? null : replies.Get(changed ? "language" : "help", keyword.Language);

                case KeywordKind.Rights:
                    return await OptedOutAsync(cancellationToken) ? null : replies.Get("rights", _known ?? keyword.Language);

                case KeywordKind.Report:
                    return await ReportAsync(keyword, cancellationToken);

                case KeywordKind.Latest:
                    return await LatestAsync(keyword, cancellationToken);

                case KeywordKind.Alert when await OrganizerAsync(cancellationToken) is { } organizer:
                    return await proposeAlert.AnswerAsync(connection, transaction, organizer, keyword, message.Body, cancellationToken);

                default:
                    if (keyword.Kind == KeywordKind.Unknown && Keywords.ConfirmationCode(message.Body) is { } confirmation
                        && await OrganizerAsync(cancellationToken) is { } confirming)
                    {
                        var (reply, afterCommit) = await confirmAlert.AnswerAsync(connection, transaction, confirming, confirmation.Code,
                            cancellationToken);
                        AfterCommit = afterCommit;
                        return reply;
                    }

                    // A group's own keyword (EASTSIDE) joins it.
                    if (keyword.Kind == KeywordKind.Unknown && keyword.Text.Length > 0
                        && await SubscriberStore.FindGroupAsync(connection, transaction, keyword.Text, cancellationToken) is { } named)
                    {
                        return await JoinAsync(named, null, cancellationToken);
                    }

                    return await HintAsync(cancellationToken);
            }
        }

        private async Task<string?> JoinAsync(GroupRef group, string? keywordLanguage, CancellationToken cancellationToken)
        {
            if (!limits.IsAllowedCountry(message.From))
            {
                // Nobody from elsewhere is subscribed to every future alert (SMS pumping), and they hear nothing.
                limits.Refused("country");
                return null;
            }

            var language = keywordLanguage ?? _known ?? options.DefaultLanguage;
            var status = await SubscriberStore.JoinGroupAsync(connection, transaction, message.From.Channel, phoneIndex,
                id => protector.Encrypt(message.From.E164, CipherPlaces.SubscriberPhone(id)), language, group, cancellationToken);
            return status == SubscriberStore.Pending ? replies.Get("confirmGroup", language, group.Name)
                : group.IsDefault ? replies.Get("join", language)
                : replies.Get("joinGroup", language, group.Name);
        }

        private async Task<string?> HintAsync(CancellationToken cancellationToken) =>
            !await OptedOutAsync(cancellationToken)
            && await SubscriberStore.TryTakeHintAsync(connection, transaction,
                protector.PurposeIndex(IndexPurpose.UnknownTextHint, message.From.E164), HintInterval, cancellationToken)
                ? replies.Get("unknown", _known)
                : null;

        /// <summary>Reports beyond the hourly budget: one more is stored without a reply (it may matter), the rest are
        /// dropped, their text not kept, so one number cannot fill the inbox.</summary>
        private async Task<string?> ReportAsync(KeywordMatch keyword, CancellationToken cancellationToken)
        {
            var used = keyword.Argument.Length == 0 ? 0
                : await limits.TakeAsync(connection, transaction, message.From, SenderLimits.Report, cancellationToken);
            if (used > limits.ReportsPerHour + 1)
            {
                limits.Refused("reports");
                await connection.ExecuteAsync(new CommandDefinition("UPDATE inbound_messages SET body_cipher = NULL WHERE id = @inboundId",
                    new { inboundId }, transaction, cancellationToken: cancellationToken));
                return null;
            }

            var reply = await reports.AnswerAsync(connection, transaction, message.From, phoneIndex, keyword, message.Body, _known,
                cancellationToken);
            if (used == limits.ReportsPerHour + 1)
            {
                limits.Refused("reports");
                return null;
            }

            return reply;
        }

        /// <summary>LATEST: the alerts in force that were sent to this number, each with how long ago, in the number's
        /// language. A number that is not subscribed learns only how to join (nothing about what was sent, to whom);
        /// an opted-out one hears nothing.</summary>
        private async Task<string?> LatestAsync(KeywordMatch keyword, CancellationToken cancellationToken)
        {
            if (await OptedOutAsync(cancellationToken))
            {
                return null;
            }

            var language = _known ?? keyword.Language;
            if (!await SubscriberStore.IsReachableAsync(connection, transaction, phoneIndex, cancellationToken))
            {
                return replies.Get("latestNotSubscribed", language);
            }

            var sent = await Alerts.LatestAlerts.ForNumberAsync(connection, transaction, phoneIndex, cancellationToken);
            if (sent.Count == 0)
            {
                return replies.Get("latestNone", language);
            }

            var now = DateTimeOffset.UtcNow;
            var alerts = string.Join(" ", sent.Select(alert =>
            {
                var body = alert.Bodies[Alerts.AlertBodies.LanguageFor(alert.Bodies, language, options.DefaultLanguage)];
                var minutes = (int)Math.Max(0, (now - alert.At).TotalMinutes);
                var age = minutes < 60 ? $"{minutes} min" : $"{minutes / 60} h";
                return $"[{age}] {(body.Length <= LatestTextLength ? body : body[..LatestTextLength] + "…")}";
            }));
            return replies.Get("latest", language, new Dictionary<string, string> { ["alerts"] = alerts });
        }

        private Task<OrganizerPhone?> OrganizerAsync(CancellationToken cancellationToken) =>
            OrganizerPhones.FindAsync(connection, transaction, protector, message.From.E164, cancellationToken);

        private Task<bool> OptedOutAsync(CancellationToken cancellationToken) =>
            SubscriberStore.IsOptedOutAsync(connection, transaction, phoneIndex, cancellationToken);
    }
}

public static class ReceiveInboundMessageEndpoint
{
    public static void MapReceiveInboundMessage(this IEndpointRouteBuilder app) =>
        app.MapPost("/webhooks/twilio/inbound", async (HttpRequest request, IMediator mediator, IOptions<AlertNetOptions> options,
                CancellationToken cancellationToken) =>
            {
                // The signature filter has already read and verified the form.
                var form = await request.ReadFormAsync(cancellationToken);
                var sid = form["MessageSid"].ToString();
                if (string.IsNullOrWhiteSpace(sid) || sid.Length > 64)
                {
                    return Results.Problem("MessageSid is required.", statusCode: StatusCodes.Status400BadRequest);
                }

                var from = SubscriberAddress.TryParse(form["From"], options.Value.DefaultRegion);
                if (from is null)
                {
                    return Results.Problem("From is not a phone number.", statusCode: StatusCodes.Status400BadRequest);
                }

                await mediator.Send(new ReceiveInboundMessage(sid, from, form["Body"].ToString(), form["OptOutType"].ToString()), cancellationToken);
                // The reply went through the REST API (see ReceiveInboundMessage): an empty TwiML answer sends nothing more.
                return Results.Content(new MessagingResponse().ToString(), "text/xml");
            })
            .AllowAnonymous()
            .AddEndpointFilter<TwilioWebhookFilter>()
            .DisableAntiforgery();
}
