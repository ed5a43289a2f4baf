using System.Security.Claims;
using AlertNet.Accounts;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;

namespace AlertNet.Infrastructure.Auth;

/// <summary>Web app sessions: who is signed in, and whether that still holds.</summary>
public static class CookieSessions
{
    public static ClaimsPrincipal Principal(UserAccount user, string scheme = AuthSchemes.Cookie, DateTimeOffset? signedInAt = null, bool setup = false) =>
        new(new ClaimsIdentity(
            [
                new Claim(ClaimTypes.NameIdentifier, user.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)),
                new Claim(ClaimTypes.Name, user.Name),
                new Claim(ClaimTypes.Role, user.Role),
                new Claim(AuthSchemes.SecurityStampClaim, user.SecurityStamp),
                new Claim(AuthSchemes.SignedInAtClaim, (signedInAt ?? DateTimeOffset.UtcNow).ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture)),
                .. setup ? [new Claim(AuthSchemes.SetupClaim, "true")] : Array.Empty<Claim>(),
            ],
            scheme));

    /// <summary>Signs in; <paramref name="signedInAt"/> keeps the original sign-in time when a session is only renewed
    /// (after a change to the account), so renewing never extends the absolute lifetime.</summary>
    public static Task SignInAsync(HttpContext context, UserAccount user, DateTimeOffset? signedInAt = null) =>
        context.SignInAsync(AuthSchemes.Cookie, Principal(user, signedInAt: signedInAt ?? context.RequestServices.GetRequiredService<TimeProvider>().GetUtcNow()),
            new AuthenticationProperties { IsPersistent = false });

    public static DateTimeOffset? SignedInAt(ClaimsPrincipal principal) =>
        long.TryParse(principal.FindFirstValue(AuthSchemes.SignedInAtClaim), out var seconds) ? DateTimeOffset.FromUnixTimeSeconds(seconds) : null;

    public static long? UserId(ClaimsPrincipal principal) =>
        long.TryParse(principal.FindFirstValue(ClaimTypes.NameIdentifier), out var id) ? id : null;

    /// <summary>Runs on every request with a session cookie: a disabled account, one whose role, password or
    /// second factor changed since sign-in, or that signed out (elsewhere too), is signed out at once rather than when the
    /// cookie expires; so is a session older than Web:SessionMaxHours however active, and one of an admin or organizer
    /// without the second factor the settings require.</summary>
    public static async Task ValidateAsync(CookieValidatePrincipalContext context)
    {
        var principal = context.Principal!;
        var services = context.HttpContext.RequestServices;
        var web = services.GetRequiredService<Microsoft.Extensions.Options.IOptions<AlertNet.Web.WebOptions>>().Value;
        var now = services.GetRequiredService<TimeProvider>().GetUtcNow();
        var user = UserId(principal) is { } id
            ? await services.GetRequiredService<UserAccounts>().FindAsync(id, context.HttpContext.RequestAborted)
            : null;
        if (user is null || user.DisabledAt is not null
            || user.SecurityStamp != principal.FindFirstValue(AuthSchemes.SecurityStampClaim)
            || SignedInAt(principal) is not { } signedInAt || now - signedInAt > TimeSpan.FromHours(web.SessionMaxHours)
            || (web.RequiresTwoFactor(user.Role) && !user.HasTotp))
        {
            context.RejectPrincipal();
            await context.HttpContext.SignOutAsync(AuthSchemes.Cookie);
        }
    }
}
