namespace AlertNet.Infrastructure.Auth;

public static class Roles
{
    public const string Admin = "admin";
    public const string Organizer = "organizer";
    public const string Coordinator = "coordinator";

    public static readonly string[] All = [Admin, Organizer, Coordinator];
}

/// <summary>Authorization policies. Every route names one; anything unnamed requires a signed-in user.</summary>
public static class Policies
{
    /// <summary>Writes and triggers alerts.</summary>
    public const string Organize = "organize";

    /// <summary>Watches delivery.</summary>
    public const string Watch = "watch";

    /// <summary>Manages accounts and API tokens.</summary>
    public const string Administer = "administer";

    /// <summary>The Hangfire dashboard: an admin signed in to the web app (a cookie, not an API token).</summary>
    public const string JobsDashboard = "jobs-dashboard";
}

/// <summary>Authentication schemes. API callers send a Bearer token; browsers carry the session cookie.</summary>
public static class AuthSchemes
{
    /// <summary>The default: Bearer when an Authorization header is present, otherwise the cookie.</summary>
    public const string BearerOrCookie = "BearerOrCookie";

    public const string Cookie = "Cookie";

    /// <summary>Between a right password and the authenticator code: knows who, grants nothing.</summary>
    public const string TwoFactor = "TwoFactor";

    public const string SecurityStampClaim = "alertnet:stamp";

    /// <summary>When the person signed in (Unix seconds): sessions end Web:SessionMaxHours after it, however active.</summary>
    public const string SignedInAtClaim = "alertnet:signed-in-at";

    /// <summary>On a TwoFactor (pending) principal: the password was right, and the second factor must be set up now.</summary>
    public const string SetupClaim = "alertnet:setup";
}
