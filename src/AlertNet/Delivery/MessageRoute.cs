using AlertNet.Privacy;

namespace AlertNet.Delivery;

/// <summary>How one delivery goes out.</summary>
public enum MessageRoute
{
    Sms,

    /// <summary>Free text inside WhatsApp's 24-hour session window.</summary>
    WhatsAppSession,

    /// <summary>An approved Content template: the only business-initiated message WhatsApp accepts
    /// outside the session window.</summary>
    WhatsAppTemplate,

    /// <summary>Nothing can reach this subscriber now.</summary>
    None,
}

public static class MessageRoutes
{
    // A little under 24 h: a message queued at Twilio at 23:59 would arrive outside the window.
    public static readonly TimeSpan SessionWindow = TimeSpan.FromHours(23.5);

    /// <summary>Twilio's "outside the 24-hour window" and Meta's marketing-message block: both mean this
    /// WhatsApp message will not arrive, and SMS is worth a try.</summary>
    public static bool IsWhatsAppRefusal(int errorCode) => errorCode is 63016 or 63032;

    public static MessageRoute Choose(ClaimedDelivery delivery, string? templateSid, DateTime utcNow)
    {
        if (delivery.Channel != SubscriberAddress.WhatsApp)
        {
            return MessageRoute.Sms;
        }

        if (delivery.LastInboundAt is { } last && utcNow - DateTime.SpecifyKind(last, DateTimeKind.Utc) < SessionWindow)
        {
            return MessageRoute.WhatsAppSession;
        }

        if (templateSid is not null)
        {
            return MessageRoute.WhatsAppTemplate;
        }

        return delivery.HasSms ? MessageRoute.Sms : MessageRoute.None;
    }
}
