namespace AlertNet.Dashboard;

/// <summary>Twilio error codes grouped by what the organizer should do next (design guide §4 and §6.9): a
/// dashboard shows "12 numbers not reachable — remove them", not "30006 ×12".</summary>
public static class FailureReasons
{
    public const string RemoveNumber = "remove_number";
    public const string Reword = "reword";
    public const string Temporary = "temporary";
    public const string OptedOut = "opted_out";
    public const string SenderSettings = "sender_settings";
    public const string WhatsApp = "whatsapp";
    public const string Other = "other";

    /// <summary>Display order, most actionable first; labels in English (pages translate by key).</summary>
    public static readonly (string Key, string Label)[] All =
    [
        (RemoveNumber, "Number not reachable — remove it from the list"),
        (Reword, "Carrier filtered the message — reword it"),
        (SenderSettings, "Sender cannot reach these numbers — check the sender's settings"),
        (WhatsApp, "WhatsApp refused the message — add an approved template or use SMS"),
        (Temporary, "Temporary problem — retried automatically"),
        (OptedOut, "Opted out — nothing to do"),
        (Other, "Other error — look up the code"),
    ];

    public static string Of(int? errorCode) => errorCode switch
    {
        21211 or 21614 or 21635 or 30005 or 30006 => RemoveNumber,
        30007 => Reword,
        21408 or 21612 or 21606 or 21659 => SenderSettings,
        63016 or 63032 => WhatsApp,
        null or 0 or 20429 or 21611 or 30001 or 30003 or 30008 or 63018 => Temporary,
        21610 => OptedOut,
        _ => Other,
    };

    public static string Label(string key) => All.First(r => r.Key == key).Label;
}
