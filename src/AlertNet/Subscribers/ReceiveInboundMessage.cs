using AlertNet.Hosting;
using AlertNet.Infrastructure.Twilio;
using AlertNet.Privacy;
using Dapper;
using Mediator;
using Microsoft.Extensions.Options;
using Npgsql;
using Twilio.TwiML;

namespace AlertNet.Subscribers;

/// <summary>A text from a subscriber, as Twilio posts it to /webhooks/twilio/inbound.
/// The reply (null for silence) goes back as TwiML.</summary>
public sealed record ReceiveInboundMessage(string MessageSid, SubscriberAddress From, string? Body, string? OptOutType)
    : Mediator.ICommand<string?>;

public sealed class ReceiveInboundMessageHandler(NpgsqlDataSource db, PersonalDataProtector protector, Replies replies)
    : ICommandHandler<ReceiveInboundMessage, string?>
{
    public async ValueTask<string?> Handle(ReceiveInboundMessage message, CancellationToken cancellationToken)
    {
        var keyword = Keywords.Parse(message.Body, message.OptOutType);
        var phoneIndex = protector.BlindIndex(message.From.E164);

        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);

        // Twilio retries a webhook it thinks failed: the MessageSid makes a retry a no-op.
        var isNew = await connection.ExecuteAsync(new CommandDefinition(
            """
            INSERT INTO inbound_messages (message_sid, channel, from_index, body_cipher, keyword)
            VALUES (@sid, @channel, @phoneIndex, @body, @keyword)
            ON CONFLICT (message_sid) DO NOTHING
            """,
            new
            {
                sid = message.MessageSid,
                channel = message.From.Channel,
                phoneIndex,
                body = string.IsNullOrEmpty(message.Body) ? null : protector.Encrypt(message.Body),
                keyword = keyword.Kind.ToString().ToLowerInvariant(),
            },
            transaction, cancellationToken: cancellationToken)) == 1;
        if (!isNew)
        {
            return null;
        }

        var reply = await ActAsync(connection, transaction, message, keyword, phoneIndex, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return reply;
    }

    private async Task<string?> ActAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, ReceiveInboundMessage message,
        KeywordMatch keyword, byte[] phoneIndex, CancellationToken cancellationToken)
    {
        var known = await SubscriberStore.LanguageAsync(connection, transaction, phoneIndex, cancellationToken);
        switch (keyword.Kind)
        {
            case KeywordKind.Join:
                var language = keyword.Language ?? known ?? "en";
                await SubscriberStore.JoinDefaultGroupAsync(connection, transaction, message.From.Channel, phoneIndex,
                    protector.Encrypt(message.From.E164), language, cancellationToken);
                return replies.Get("join", language);

            case KeywordKind.OptOut:
                // One confirmation, then silence: a second STOP gets nothing.
                var firstTime = await SubscriberStore.OptOutAsync(connection, transaction, phoneIndex, cancellationToken);
                return firstTime ? replies.Get("optOut", known ?? keyword.Language) : null;

            case KeywordKind.OptIn:
                var wasSubscribed = await SubscriberStore.OptInAsync(connection, transaction, phoneIndex, cancellationToken);
                return wasSubscribed ? replies.Get("optIn", known ?? keyword.Language) : replies.Get("help", keyword.Language);

            case KeywordKind.Help:
                return replies.Get("help", known ?? keyword.Language);

            case KeywordKind.Language:
                var changed = await SubscriberStore.SetLanguageAsync(connection, transaction, phoneIndex, keyword.Language!, cancellationToken);
                return replies.Get(changed ? "language" : "help", keyword.Language);

            default:
                // An opted-out number hears nothing more from us, whatever it texts.
                return await SubscriberStore.IsOptedOutAsync(connection, transaction, phoneIndex, cancellationToken)
                    ? null
                    : replies.Get("unknown", known);
        }
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

                var reply = await mediator.Send(
                    new ReceiveInboundMessage(sid, from, form["Body"].ToString(), form["OptOutType"].ToString()), cancellationToken);
                var twiml = new MessagingResponse();
                if (reply is not null)
                {
                    twiml.Message(reply);
                }

                return Results.Content(twiml.ToString(), "text/xml");
            })
            .AllowAnonymous()
            .AddEndpointFilter<TwilioWebhookFilter>()
            .DisableAntiforgery();
}
