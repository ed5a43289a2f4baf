namespace AlertNet.Carrier;

/// <summary>Where messages go out from: a From number or a Messaging Service of the provider account. Its name keys
/// the shared throttle and the health record.</summary>
public sealed record Sender(string Name, string? From, string? MessagingServiceSid)
{
    /// <summary>The sender's address on a channel: the number itself for SMS, <c>whatsapp:+1...</c> for WhatsApp.</summary>
    public string? AddressOn(string channel) =>
        From is null ? null : channel == Privacy.SubscriberAddress.WhatsApp ? Privacy.SubscriberAddress.WhatsAppPrefix + From : From;
}
