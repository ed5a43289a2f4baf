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
}
