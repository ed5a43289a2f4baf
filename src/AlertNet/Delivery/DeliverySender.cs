using System.Text.Json;
using AlertNet.Hosting;
using AlertNet.Infrastructure.Telemetry;
using AlertNet.Infrastructure.Twilio;
using AlertNet.Privacy;
using Microsoft.Extensions.Options;
using Twilio.Clients;
using Twilio.Exceptions;
using Twilio.Rest.Api.V2010.Account;
using Twilio.Types;

namespace AlertNet.Delivery;

/// <summary>Sends one claimed delivery through the Twilio SDK and records what happened. Once a delivery
/// is handed here its outcome is always written, even while shutting down.</summary>
public sealed class DeliverySender(
    ITwilioRestClient twilio,
    TwilioSettings twilioSettings,
    PersonalDataProtector protector,
    DeliveryStore store,
    IOptions<DeliveryOptions> deliveryOptions,
    IOptions<WhatsAppOptions> whatsAppOptions,
    IOptions<AlertNetOptions> appOptions,
    AlertNetMetrics metrics,
    ILogger<DeliverySender> logger)
{
    public async Task SendAsync(AlertToSend alert, ClaimedDelivery delivery)
    {
        if (delivery.OptedOut || delivery.PhoneCipher is null || delivery.SubscriberId is not { } subscriberId)
        {
            await store.SettleAsync(delivery.Id, DeliveryState.Skipped, null);
            return;
        }

        var e164 = protector.Decrypt(delivery.PhoneCipher, CipherPlaces.SubscriberPhone(subscriberId));
        var template = whatsAppOptions.Value.TemplateFor(alert.Type, alert.LanguageFor(delivery.Language));
        var route = MessageRoutes.Choose(delivery, template, DateTime.UtcNow);
        if (route == MessageRoute.None)
        {
            // Outside the session window, no approved template, no SMS subscription: WhatsApp would refuse it.
            await store.SettleAsync(delivery.Id, DeliveryState.Failed, 63016);
            metrics.Failed(63016);
            return;
        }

        // A claim that expired while "sending" may have reached Twilio before its worker died:
        // ask Twilio before sending again.
        if (delivery.PreviousState == DeliveryState.Sending && delivery.PreviousClaimAt is { } claimedAt
            && await FindSentMessageAsync(AddressFor(route, e164), claimedAt) is { } existingSid)
        {
            await store.RecordAcceptedAsync(delivery.Id, existingSid, ChannelOf(route));
            logger.LogInformation("Delivery {DeliveryId} was already accepted by Twilio as {Sid}; adopted it", delivery.Id, existingSid);
            return;
        }

        await SendByRouteAsync(alert, delivery, e164, route, template);
    }

    private async Task SendByRouteAsync(AlertToSend alert, ClaimedDelivery delivery, string e164, MessageRoute route, string? template)
    {
        try
        {
            var message = await MessageResource.CreateAsync(Compose(alert, delivery, e164, route, template), twilio);
            await store.RecordAcceptedAsync(delivery.Id, message.Sid, ChannelOf(route));
            metrics.Sent(alert.Lane, ChannelOf(route), alert.TriggeredAt);
        }
        catch (ApiException error) when (route != MessageRoute.Sms && MessageRoutes.IsWhatsAppRefusal(error.Code) && delivery.HasSms)
        {
            logger.LogInformation("Delivery {DeliveryId}: WhatsApp refused with {Code}; sending by SMS", delivery.Id, error.Code);
            await SendByRouteAsync(alert, delivery, e164, MessageRoute.Sms, null);
        }
        catch (ApiException error)
        {
            await HandleApiErrorAsync(delivery, error);
        }
        catch (Exception error) when (error is ApiConnectionException or HttpRequestException or TaskCanceledException)
        {
            // Ambiguous: Twilio may have accepted it. Keep the claim; when the short lease runs out the
            // next claimer asks Twilio first (above), and a status callback settles it sooner.
            logger.LogWarning("Delivery {DeliveryId}: no answer from Twilio ({Error}); will reconcile", delivery.Id, error.GetType().Name);
            await store.ShortenLeaseAsync(delivery.Id);
        }
    }

    private CreateMessageOptions Compose(AlertToSend alert, ClaimedDelivery delivery, string e164, MessageRoute route, string? template)
    {
        var options = new CreateMessageOptions(new PhoneNumber(AddressFor(route, e164)))
        {
            StatusCallback = new Uri(appOptions.Value.PublicUri, $"webhooks/twilio/status?deliveryId={delivery.Id}"),
        };
        switch (route)
        {
            case MessageRoute.WhatsAppTemplate:
                options.ContentSid = template;
                options.ContentVariables = JsonSerializer.Serialize(new Dictionary<string, string> { ["1"] = alert.WhatsAppBodyFor(delivery.Language) });
                break;
            case MessageRoute.WhatsAppSession:
                options.Body = alert.WhatsAppBodyFor(delivery.Language);
                break;
            default:
                options.Body = alert.SmsBodyFor(delivery.Language);
                break;
        }

        if (twilioSettings.MessagingServiceSid is { } service)
        {
            options.MessagingServiceSid = service;
        }
        else
        {
            options.From = new PhoneNumber(route == MessageRoute.Sms ? twilioSettings.From : SubscriberAddress.WhatsAppPrefix + twilioSettings.From);
        }

        if (alert.ExpiresAt is { } expiresAt)
        {
            // Twilio drops a message still queued when it would arrive too late (1 to 36,000 s).
            options.ValidityPeriod = (int)Math.Clamp((expiresAt - DateTime.UtcNow).TotalSeconds, 1, 36000);
        }

        return options;
    }

    private async Task HandleApiErrorAsync(ClaimedDelivery delivery, ApiException error)
    {
        // Never log error.Message: Twilio puts the phone number in some of them.
        var errorClass = TwilioErrors.Classify(error);
        logger.LogWarning("Delivery {DeliveryId}: Twilio error {Code} (HTTP {Status}), {Class}", delivery.Id, error.Code, error.Status, errorClass);
        switch (errorClass)
        {
            case TwilioErrorClass.Transient when delivery.Attempts < deliveryOptions.Value.MaxAttempts:
                await store.RetryLaterAsync(delivery.Id, delivery.Attempts, error.Code);
                break;
            case TwilioErrorClass.OptedOut:
                await store.OptOutRecipientAsync(delivery.Id, error.Code);
                metrics.Failed(error.Code);
                break;
            default:
                await store.SettleAsync(delivery.Id, DeliveryState.Failed, error.Code == 0 ? null : error.Code);
                metrics.Failed(error.Code == 0 ? null : error.Code);
                break;
        }
    }

    private async Task<string?> FindSentMessageAsync(string to, DateTime claimedAtUtc)
    {
        // Filter by To only: a message still queued at Twilio has no DateSent and would escape a DateSent
        // filter. Twilio lists newest first, so the first page is enough; the SDK fetches further pages
        // with a blocking wait, which is why the limit matches the page size.
        var recent = await MessageResource.ReadAsync(new ReadMessageOptions { To = new PhoneNumber(to), PageSize = 20, Limit = 20 }, twilio);
        // The SDK gives dates in local time.
        return recent.FirstOrDefault(m => m.DateCreated is { } created && created.ToUniversalTime() >= claimedAtUtc.AddSeconds(-5))?.Sid;
    }

    private static string AddressFor(MessageRoute route, string e164) =>
        route == MessageRoute.Sms ? e164 : SubscriberAddress.WhatsAppPrefix + e164;

    private static string ChannelOf(MessageRoute route) => route == MessageRoute.Sms ? SubscriberAddress.Sms : SubscriberAddress.WhatsApp;
}
