using System.Security.Claims;

namespace AlertNet.Infrastructure.Auth;

/// <summary>Who is acting, as alerts, approvals and the audit log record it: the principal's
/// <see cref="ClaimTypes.Name"/> claim (<c>Identity.Name</c>). For an API token that is the token's name; for a
/// signed-in user, the user's login name; an alert sent by SMS is recorded as <c>sms:&lt;name&gt;</c>, the name
/// its phone was registered under. The name, not NameIdentifier, because the same person reaches AlertNet through
/// several of these and must be recognised as one person in all of them.</summary>
public static class Actor
{
    private const string SmsPrefix = "sms:";

    /// <summary>The actor name of an authenticated principal (every route that calls this requires one).</summary>
    public static string Of(ClaimsPrincipal user) =>
        user.FindFirst(ClaimTypes.Name)?.Value is { Length: > 0 } name
            ? name
            : throw new InvalidOperationException("An authenticated principal without a Name claim.");

    /// <summary>Whether two recorded actors are the same person: <c>maria</c>, <c>Maria</c> and <c>sms:maria</c> are.
    /// Errs towards "same": two tokens that share a name count as one person, so neither can approve the other's alert.</summary>
    public static bool SamePerson(string a, string b) =>
        string.Equals(PersonOf(a), PersonOf(b), StringComparison.OrdinalIgnoreCase);

    private static string PersonOf(string actor)
    {
        var trimmed = actor.Trim();
        return trimmed.StartsWith(SmsPrefix, StringComparison.OrdinalIgnoreCase) ? trimmed[SmsPrefix.Length..].Trim() : trimmed;
    }
}
