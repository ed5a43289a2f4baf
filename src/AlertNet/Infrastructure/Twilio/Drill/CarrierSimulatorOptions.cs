namespace AlertNet.Infrastructure.Twilio.Drill;

/// <summary>Settings of the drill-mode carrier simulator.</summary>
public sealed class CarrierSimulatorOptions
{
    /// <summary>The account SID the simulator accepts in Basic auth and in the request path.</summary>
    public string AccountSid { get; set; } = "";

    /// <summary>The auth token the simulator accepts and signs its status callbacks with.</summary>
    public string AuthToken { get; set; } = "";

    /// <summary>Time from acceptance to the <c>sent</c> (or <c>failed</c>) callback.</summary>
    public TimeSpan SentDelay { get; set; } = TimeSpan.FromMilliseconds(20);

    /// <summary>Time from the <c>sent</c> callback to the final <c>delivered</c> or <c>undelivered</c> callback.</summary>
    public TimeSpan DeliveredDelay { get; set; } = TimeSpan.FromMilliseconds(40);

    /// <summary>Status callbacks posted at the same time.</summary>
    public int MaxConcurrentCallbacks { get; set; } = 16;

    /// <summary>
    /// Messages waiting for their callbacks. A full queue makes the API wait rather than lose callbacks, because a
    /// lost callback would leave a delivery stuck at "accepted".
    /// </summary>
    public int CallbackQueueCapacity { get; set; } = 100_000;

    /// <summary>Where texts from simulated phones are posted (AlertNet's /webhooks/twilio/inbound).</summary>
    public string? InboundWebhookUrl { get; set; }

    /// <summary>Injected faults (chaos runs and tests only); none by default.</summary>
    public CarrierFaults Faults { get; set; } = new();
}
