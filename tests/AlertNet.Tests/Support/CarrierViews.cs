using AlertNet.Infrastructure.Twilio.Drill;

namespace AlertNet.Tests.Support;

/// <summary>What the phones received, told apart by what AlertNet sent: alert deliveries carry their delivery id in the
/// status callback URL, replies <c>kind=reply</c>, test sends <c>kind=test</c>.</summary>
public static class CarrierViews
{
    /// <summary>Every alert message the carrier accepted (replies and test sends left out).</summary>
    public static IReadOnlyCollection<SimulatedMessage> AlertMessages(this CarrierSimulator carrier) =>
        carrier.Messages.Where(IsAlert).ToList();

    /// <summary>Alert messages accepted for this exact address.</summary>
    public static int AlertCountTo(this CarrierSimulator carrier, string to) => carrier.ReceivedBy(to).Count(IsAlert);

    /// <summary>Test sends ("Send me a test") accepted for this exact address.</summary>
    public static int TestSendCountTo(this CarrierSimulator carrier, string to) => carrier.ReceivedBy(to).Count(IsTestSend);

    /// <summary>Alert messages per recipient address.</summary>
    public static IReadOnlyDictionary<string, int> AlertCountsByRecipient(this CarrierSimulator carrier) =>
        carrier.Messages.Where(IsAlert).GroupBy(m => m.To).ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);

    /// <summary>Everything the carrier accepted except AlertNet's replies to texts (alerts and test sends).</summary>
    public static IReadOnlyCollection<SimulatedMessage> SentExceptReplies(this CarrierSimulator carrier) =>
        carrier.Messages.Where(m => !IsReply(m)).ToList();

    public static bool IsReply(SimulatedMessage message) =>
        message.StatusCallback?.Contains("kind=reply", StringComparison.Ordinal) == true;

    public static bool IsTestSend(SimulatedMessage message) =>
        message.StatusCallback?.Contains("kind=test", StringComparison.Ordinal) == true;

    public static bool IsAlert(SimulatedMessage message) =>
        message.StatusCallback?.Contains("deliveryId=", StringComparison.Ordinal) == true;
}
