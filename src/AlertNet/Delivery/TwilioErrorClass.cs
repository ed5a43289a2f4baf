using Twilio.Exceptions;

namespace AlertNet.Delivery;

public enum TwilioErrorClass
{
    /// <summary>Back off and retry while the alert is still valid.</summary>
    Transient,

    /// <summary>Record the code; do not retry.</summary>
    Permanent,

    /// <summary>21610: the recipient texted STOP to Twilio; opt them out here too.</summary>
    OptedOut,
}

/// <summary>The design guide's error table (§4) as code.</summary>
public static class TwilioErrors
{
    public const int OptedOut = 21610;

    private static readonly HashSet<int> TransientCodes = [20429, 21611, 30001, 30003, 30008, 63018];

    /// <summary>The class of an error code alone, as a status callback reports it.</summary>
    public static TwilioErrorClass ClassifyCode(int code) => code == OptedOut ? TwilioErrorClass.OptedOut
        : code == 0 || TransientCodes.Contains(code) ? TwilioErrorClass.Transient
        : TwilioErrorClass.Permanent;

    public static TwilioErrorClass Classify(ApiException exception) => exception switch
    {
        { Code: OptedOut } => TwilioErrorClass.OptedOut,
        // A non-JSON error page (Code 0), a 5xx or a 429: Twilio's side, not the message.
        { Code: 0 } or { Status: >= 500 } or { Status: 429 } => TwilioErrorClass.Transient,
        _ when TransientCodes.Contains(exception.Code) => TwilioErrorClass.Transient,
        _ => TwilioErrorClass.Permanent,
    };
}
