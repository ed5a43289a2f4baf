using System.Net;
using System.Security.Cryptography;
using System.Text;
using AlertNet.Web;
using Dapper;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.Options;
using Npgsql;

namespace AlertNet.Accounts;

/// <summary>Slows down password guessing without ever locking an account: after a few failures for a login name (from
/// anywhere) or from a client address (for any names), each further attempt must wait, twice as long each time up to a
/// cap. An attempt during a wait is refused before the password is checked, the same way for every name, known or not.
/// The counts live in PostgreSQL so every web process agrees. A browser that has signed in as a name before carries a
/// device cookie for it and is not held back by that name's failures: an attacker can slow down their own guesses
/// against an organizer, never the organizer on their own device.</summary>
public sealed class SignInThrottle(NpgsqlDataSource db, IOptions<WebOptions> options, IDataProtectionProvider dataProtection)
{
    public const string DeviceCookie = "AlertNet.Device";

    private IDataProtector DeviceProtector => dataProtection.CreateProtector("AlertNet.Accounts.Device");

    public static string NameKey(string name) => Hash("name:" + name.Trim().ToLowerInvariant());

    public static string AddressKey(IPAddress? address) => Hash("address:" + (address?.IsIPv4MappedToIPv6 == true ? address.MapToIPv4() : address));

    /// <summary>The keys an attempt counts against, and whether the name's own count may hold it back.</summary>
    public Attempt AttemptOf(HttpContext context, string name) =>
        new(NameKey(name), AddressKey(context.Connection.RemoteIpAddress), IsTrustedDevice(context, name));

    /// <summary>How long this attempt must still wait, or null when it may go ahead.</summary>
    public async Task<TimeSpan?> WaitAsync(Attempt attempt, CancellationToken cancellationToken)
    {
        string[] keys = attempt.TrustedDevice ? [attempt.AddressKey] : [attempt.NameKey, attempt.AddressKey];
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        var seconds = await connection.QuerySingleAsync<double?>(new CommandDefinition(
            "SELECT extract(epoch FROM max(blocked_until) - now())::float8 FROM sign_in_throttle WHERE key = ANY(@keys) AND blocked_until > now()",
            new { keys }, cancellationToken: cancellationToken));
        return seconds is > 0 ? TimeSpan.FromSeconds(seconds.Value) : null;
    }

    /// <summary>Counts a failure against the name and the address (one statement each, so concurrent attempts cannot slip
    /// past the count) and forgets failures older than the window.</summary>
    public async Task RecordFailureAsync(Attempt attempt, CancellationToken cancellationToken)
    {
        var settings = options.Value;
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        await connection.ExecuteAsync(new CommandDefinition(
            """
            DELETE FROM sign_in_throttle WHERE last_failure_at < now() - make_interval(mins => @window);
            INSERT INTO sign_in_throttle AS t (key, failures, last_failure_at, blocked_until)
            SELECT k.key, 1, now(), CASE WHEN 1 >= k.free THEN now() + make_interval(secs => least(@max, @delay)) END
            FROM unnest(@keys, @frees) AS k(key, free)
            ON CONFLICT (key) DO UPDATE SET
                failures = t.failures + 1,
                last_failure_at = now(),
                blocked_until = CASE WHEN t.failures + 1 >= (SELECT f.free FROM unnest(@keys, @frees) AS f(key, free) WHERE f.key = t.key)
                    THEN now() + make_interval(secs => least(@max::float8, @delay * power(2, least(30,
                        t.failures + 1 - (SELECT f.free FROM unnest(@keys, @frees) AS f(key, free) WHERE f.key = t.key)))))
                    END
            """,
            new
            {
                keys = new[] { attempt.NameKey, attempt.AddressKey },
                frees = new[] { settings.SignInFailuresPerName, settings.SignInFailuresPerAddress },
                window = settings.SignInFailureWindowMinutes,
                delay = (double)settings.SignInDelaySeconds,
                max = (double)settings.SignInMaxDelaySeconds,
            },
            cancellationToken: cancellationToken));
    }

    /// <summary>A right password (and code) forgets the name's failures; the address's stay (an attacker may hold an
    /// account of their own).</summary>
    public async Task ForgetNameAsync(string name, CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        await connection.ExecuteAsync(new CommandDefinition(
            "DELETE FROM sign_in_throttle WHERE key = @key", new { key = NameKey(name) }, cancellationToken: cancellationToken));
    }

    /// <summary>After a complete sign-in: this browser may sign in as this name even while the name's failures hold others back.</summary>
    public void TrustDevice(HttpContext context, string name) =>
        context.Response.Cookies.Append(DeviceCookie, DeviceProtector.Protect(name.Trim().ToLowerInvariant()), new CookieOptions
        {
            HttpOnly = true,
            SameSite = SameSiteMode.Strict,
            Secure = context.Request.IsHttps,
            IsEssential = true,
            MaxAge = TimeSpan.FromDays(90),
            Path = "/login",
        });

    private bool IsTrustedDevice(HttpContext context, string name)
    {
        if (context.Request.Cookies[DeviceCookie] is not { Length: > 0 } cookie)
        {
            return false;
        }

        try
        {
            return string.Equals(DeviceProtector.Unprotect(cookie), name.Trim(), StringComparison.OrdinalIgnoreCase);
        }
        catch (CryptographicException)
        {
            return false;
        }
    }

    private static string Hash(string value) => Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(value)));

    public sealed record Attempt(string NameKey, string AddressKey, bool TrustedDevice);
}
