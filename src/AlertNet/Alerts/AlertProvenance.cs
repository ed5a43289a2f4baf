namespace AlertNet.Alerts;

/// <summary>How an alert was verified before it went out (alerts.verification), who recorded it, and the hotline reports it
/// came from. <paramref name="AddLine"/>: each text ends with a line saying it was verified and when, in its language.</summary>
public sealed record AlertProvenance(string Verification, string? VerifiedBy, IReadOnlyList<long> Reports, bool AddLine = false)
{
    public const string InPerson = "in_person";
    public const string PhotoVideo = "photo_video";
    public const string TrustedSource = "trusted_source";
    public const string Unverified = "unverified";

    public static readonly string[] All = [InPerson, PhotoVideo, TrustedSource, Unverified];

    public bool IsVerified => Verification != Unverified;

    /// <summary>Why the request's provenance cannot be recorded, or null.</summary>
    public static string? Problem(string? verification, string? verifiedBy, long[]? reports) =>
        verification is not null && !All.Contains(verification) ? $"verification must be one of: {string.Join(", ", All)}."
        : verifiedBy is { Length: > 100 } ? "verifiedBy must be at most 100 characters."
        : reports is { Length: > 20 } || reports?.Any(r => r <= 0) == true ? "reports must be up to 20 hotline report ids."
        : null;
}
