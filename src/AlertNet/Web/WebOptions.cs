using System.ComponentModel.DataAnnotations;

namespace AlertNet.Web;

/// <summary>The "Web" configuration section: sign-in to the web app.</summary>
public sealed class WebOptions
{
    public const string Section = "Web";

    /// <summary>A session ends after this long without a request; each request renews it.</summary>
    [Range(1, 24 * 60)]
    public int SessionIdleMinutes { get; set; } = 60;

    /// <summary>Wrong passwords or codes in a row that lock an account.</summary>
    [Range(1, 100)]
    public int LockoutFailures { get; set; } = 5;

    [Range(1, 24 * 60)]
    public int LockoutMinutes { get; set; } = 15;
}
