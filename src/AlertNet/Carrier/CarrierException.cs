namespace AlertNet.Carrier;

/// <summary>What went wrong with a request to the provider, in the terms the callers act on.</summary>
public enum CarrierFailure
{
    /// <summary>The provider answered with an error about this request (HTTP 4xx with a Twilio code): it did
    /// nothing. Whether it is worth another try depends on the code (see Delivery/TwilioErrors).</summary>
    Refused,

    /// <summary>HTTP 429: the provider is reachable but wants us slower. Nothing was done.</summary>
    Throttled,

    /// <summary>HTTP 5xx: the provider's side failed; it did not take the request.</summary>
    ServerError,

    /// <summary>The provider could not be reached at all (connection refused, no route, name not found):
    /// the request never left this machine.</summary>
    Unreachable,

    /// <summary>The request may have reached the provider but no usable answer came back (a timeout, a
    /// connection dropped mid-way, an answer that is not the provider's JSON). For a send, the message may
    /// have been accepted: reconcile before sending again.</summary>
    NoAnswer,

    /// <summary>Not attempted: this sender's circuit is open because the provider has been failing.</summary>
    CircuitOpen,
}

/// <summary>The only exception that leaves the carrier adapter. It carries the HTTP status, the provider's error
/// code and the type of the underlying exception, and never the SDK's message or URL: those hold phone numbers
/// (a list request puts To= in its URL, an error page is quoted whole), and this exception ends up in logs and
/// in Hangfire's job records.</summary>
public sealed class CarrierException : Exception
{
    public CarrierException(string operation, CarrierFailure failure, int httpStatus, int code, string exceptionType)
        : base($"Carrier {operation} failed: {failure} (HTTP {httpStatus}, code {code}, {exceptionType})")
    {
        Operation = operation;
        Failure = failure;
        HttpStatus = httpStatus;
        Code = code;
        ExceptionType = exceptionType;
    }

    public CarrierException()
        : this("request", CarrierFailure.NoAnswer, 0, 0, "unknown")
    {
    }

    public CarrierException(string message)
        : this(message, CarrierFailure.NoAnswer, 0, 0, "unknown")
    {
    }

    public CarrierException(string message, Exception innerException)
        : this(message, CarrierFailure.NoAnswer, 0, 0, innerException?.GetType().Name ?? "unknown")
    {
    }

    /// <summary>send, find, fetch or delete.</summary>
    public string Operation { get; }

    public CarrierFailure Failure { get; }

    /// <summary>0 when no HTTP answer came.</summary>
    public int HttpStatus { get; }

    /// <summary>The provider's error code (Twilio's 21211, 20429, ...); 0 when it gave none.</summary>
    public int Code { get; }

    public string ExceptionType { get; }

    /// <summary>True when the provider may have done what was asked although we got no answer saying so.</summary>
    public bool MayHaveSucceeded => Failure == CarrierFailure.NoAnswer;

    /// <summary>Failures that say the provider is down, not that this one request was wrong: they count towards
    /// opening the sender's circuit.</summary>
    public bool IsOutage => Failure is CarrierFailure.ServerError or CarrierFailure.Unreachable or CarrierFailure.NoAnswer
        || HttpStatus is 401 or 403;
}
