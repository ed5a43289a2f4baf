using System.ComponentModel.DataAnnotations;

namespace AlertNet.Web;

/// <summary>The "Web" configuration section: sign-in to the web app.</summary>
public sealed class WebOptions
{
    public const string Section = "Web";

    /// <summary>A session ends after this long without a request; each request renews it.</summary>
    [Range(1, 24 * 60)]
    public int SessionIdleMinutes { get; set; } = 60;

    /// <summary>A session ends this long after sign-in, however active it is (sliding expiry never renews past it).</summary>
    [Range(0.0001, 24 * 30)]
    public double SessionMaxHours { get; set; } = 12;

    /// <summary>Admins and organizers must sign in with an authenticator code; those without one set it up at sign-in.</summary>
    public bool RequireTwoFactor { get; set; } = true;

    /// <summary>Wrong authenticator codes in a row that lock an account (only someone who knows its password can get
    /// that far; wrong passwords are held back by the sign-in throttle instead, which nobody can turn into a lockout).</summary>
    [Range(1, 100)]
    public int LockoutFailures { get; set; } = 5;

    [Range(1, 24 * 60)]
    public int LockoutMinutes { get; set; } = 15;

    /// <summary>Failed sign-ins for one login name (known or not, from anywhere) before each further one must wait.
    /// A browser that signed in as that name before is not held back by them (its device cookie).</summary>
    [Range(1, 1000)]
    public int SignInFailuresPerName { get; set; } = 5;

    /// <summary>Failed sign-ins from one client address (any names) before each further one must wait.</summary>
    [Range(1, 10000)]
    public int SignInFailuresPerAddress { get; set; } = 20;

    /// <summary>The first wait; it doubles with each further failure, up to <see cref="SignInMaxDelaySeconds"/>.</summary>
    [Range(1, 3600)]
    public int SignInDelaySeconds { get; set; } = 2;

    [Range(1, 24 * 3600)]
    public int SignInMaxDelaySeconds { get; set; } = 60;

    /// <summary>Failures are forgotten this long after the last one.</summary>
    [Range(1, 7 * 24 * 60)]
    public int SignInFailureWindowMinutes { get; set; } = 60;

    /// <summary>Addresses of reverse proxies whose X-Forwarded-For names the client (loopback is always trusted).</summary>
    public string[] ForwardedForProxies { get; set; } = [];

    public bool RequiresTwoFactor(string role) => RequireTwoFactor && role is AlertNet.Infrastructure.Auth.Roles.Admin or AlertNet.Infrastructure.Auth.Roles.Organizer;
}
