using System.Text.Json;
using AlertNet.Hosting;
using AlertNet.Infrastructure.Telemetry;
using AlertNet.Carrier;
using AlertNet.Privacy;
using Microsoft.Extensions.Options;

namespace AlertNet.Delivery;

/// <summary>Sends one claimed delivery through the carrier adapter and records what happened. Once a delivery
/// is handed here its outcome is always written, even while shutting down.</summary>
public sealed class DeliverySender(
    CarrierClient carrier,
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

        // A claim that ran out while "sending" may have reached the provider before its worker died, or its answer was
        // lost: ask the provider before sending again.
        if (delivery.UnconfirmedSince is { } since)
        {
            (string Sid, string Channel)? existing;
            try
            {
                existing = await FindSentAsync(alert, delivery, e164, route, since);
            }
            catch (CarrierException error)
            {
                // Cannot tell now whether it went out: never send blind. Keep the claim and ask again soon.
                logger.LogWarning("Delivery {DeliveryId}: could not ask the provider about an unanswered send ({Failure})", delivery.Id, error.Failure);
                await store.ShortenLeaseAsync(delivery.Id, ReconcileRetry(error));
                return;
            }

            if (existing is { } found)
            {
                await store.RecordAcceptedAsync(delivery.Id, found.Sid, found.Channel);
                logger.LogInformation("Delivery {DeliveryId} was already accepted by the provider as {Sid}; adopted it", delivery.Id, found.Sid);
                return;
            }
        }

        await SendByRouteAsync(alert, delivery, e164, route, template);
    }

    private async Task SendByRouteAsync(AlertToSend alert, ClaimedDelivery delivery, string e164, MessageRoute route, string? template)
    {
        try
        {
            var sid = await carrier.SendAsync(Compose(alert, delivery, e164, route, template), ChannelOf(route));
            await store.RecordAcceptedAsync(delivery.Id, sid, ChannelOf(route));
            metrics.Sent(alert.Lane, ChannelOf(route), alert.TriggeredAt);
        }
        catch (CarrierException error) when (error.Failure == CarrierFailure.Refused && route != MessageRoute.Sms
                                             && MessageRoutes.IsWhatsAppRefusal(error.Code) && delivery.HasSms)
        {
            logger.LogInformation("Delivery {DeliveryId}: WhatsApp refused with {Code}; sending by SMS", delivery.Id, error.Code);
            await SendByRouteAsync(alert, delivery, e164, MessageRoute.Sms, null);
        }
        catch (CarrierException error) when (error.MayHaveSucceeded)
        {
            // Ambiguous: the provider may have accepted it. Keep the claim; when the short lease runs out the next claimer
            // asks the provider first (above), and a status callback settles it sooner.
            logger.LogWarning("Delivery {DeliveryId}: no answer from the provider ({Error}); will reconcile", delivery.Id, error.ExceptionType);
            await store.ShortenLeaseAsync(delivery.Id, TimeSpan.FromSeconds(10));
        }
        catch (CarrierException error) when (error.Failure is CarrierFailure.Unreachable or CarrierFailure.ServerError
                                             or CarrierFailure.CircuitOpen or CarrierFailure.Throttled || error.IsOutage)
        {
            // Not sent, and not this message's fault: back to the queue without spending one of its attempts, for when the
            // provider answers again (urgent alerts first: bulk waits a little longer).
            logger.LogDebug("Delivery {DeliveryId}: not sent ({Failure}); back in the queue", delivery.Id, error.Failure);
            await store.ReleaseUnsentAsync(delivery.Id, OutageRetry(error, alert.IsUrgent), error.Code == 0 ? null : error.Code);
        }
        catch (CarrierException error)
        {
            await HandleRefusalAsync(delivery, error);
        }
    }

    private OutboundMessage Compose(AlertToSend alert, ClaimedDelivery delivery, string e164, MessageRoute route, string? template)
    {
        var callback = new Uri(appOptions.Value.PublicUri, $"webhooks/twilio/status?deliveryId={delivery.Id}");
        // The provider drops a message still queued when it would arrive too late (1 to 36,000 s).
        int? validity = alert.ExpiresAt is { } expiresAt ? (int)Math.Clamp((expiresAt - DateTime.UtcNow).TotalSeconds, 1, 36000) : null;
        return route switch
        {
            MessageRoute.WhatsAppTemplate => new OutboundMessage(AddressFor(route, e164), null, callback, template,
                JsonSerializer.Serialize(new Dictionary<string, string> { ["1"] = alert.WhatsAppBodyFor(delivery.Language) }), validity),
            MessageRoute.WhatsAppSession => new OutboundMessage(AddressFor(route, e164), alert.WhatsAppBodyFor(delivery.Language), callback,
                ValidityPeriodSeconds: validity),
            _ => new OutboundMessage(AddressFor(route, e164), alert.SmsBodyFor(delivery.Language), callback, ValidityPeriodSeconds: validity),
        };
    }

    private async Task HandleRefusalAsync(ClaimedDelivery delivery, CarrierException error)
    {
        var errorClass = TwilioErrors.ClassifyCode(error.Code);
        logger.LogWarning("Delivery {DeliveryId}: provider error {Code} (HTTP {Status}), {Class}", delivery.Id, error.Code, error.HttpStatus, errorClass);
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

    /// <summary>The message an earlier, unanswered attempt may have created: on the route this send would take, or by SMS
    /// when WhatsApp refused that attempt and it fell back.</summary>
    private async Task<(string Sid, string Channel)?> FindSentAsync(AlertToSend alert, ClaimedDelivery delivery, string e164, MessageRoute route,
        DateTime since)
    {
        var routes = route != MessageRoute.Sms && delivery.HasSms ? new[] { route, MessageRoute.Sms } : [route];
        foreach (var candidate in routes)
        {
            var body = candidate switch
            {
                MessageRoute.Sms => alert.SmsBodyFor(delivery.Language),
                MessageRoute.WhatsAppSession => alert.WhatsAppBodyFor(delivery.Language),
                _ => null, // a template's text is the provider's rendering: not comparable
            };
            if (await carrier.FindSentAsync(AddressFor(candidate, e164), ChannelOf(candidate), body, since, DateTime.UtcNow,
                    store.KnownSidsAsync) is { } sid)
            {
                return (sid, ChannelOf(candidate));
            }
        }

        return null;
    }

    private TimeSpan OutageRetry(CarrierException error, bool urgent)
    {
        var wait = carrier.Circuit.RetryAfter > TimeSpan.Zero ? carrier.Circuit.RetryAfter : TimeSpan.FromSeconds(error.Failure == CarrierFailure.Throttled ? 2 : 1);
        return urgent ? wait : wait + TimeSpan.FromSeconds(2);
    }

    private TimeSpan ReconcileRetry(CarrierException error) =>
        error.Failure == CarrierFailure.CircuitOpen && carrier.Circuit.RetryAfter > TimeSpan.Zero ? carrier.Circuit.RetryAfter : TimeSpan.FromSeconds(5);

    private static string AddressFor(MessageRoute route, string e164) =>
        route == MessageRoute.Sms ? e164 : SubscriberAddress.WhatsAppPrefix + e164;

    private static string ChannelOf(MessageRoute route) => route == MessageRoute.Sms ? SubscriberAddress.Sms : SubscriberAddress.WhatsApp;
}
