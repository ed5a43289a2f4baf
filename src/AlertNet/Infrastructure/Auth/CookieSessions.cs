using System.Security.Claims;
using AlertNet.Accounts;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;

namespace AlertNet.Infrastructure.Auth;

/// <summary>Web app sessions: who is signed in, and whether that still holds.</summary>
public static class CookieSessions
{
    public static ClaimsPrincipal Principal(UserAccount user, string scheme = AuthSchemes.Cookie) =>
        new(new ClaimsIdentity(
            [
                new Claim(ClaimTypes.NameIdentifier, user.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)),
                new Claim(ClaimTypes.Name, user.Name),
                new Claim(ClaimTypes.Role, user.Role),
                new Claim(AuthSchemes.SecurityStampClaim, user.SecurityStamp),
            ],
            scheme));

    public static Task SignInAsync(HttpContext context, UserAccount user) =>
        context.SignInAsync(AuthSchemes.Cookie, Principal(user), new AuthenticationProperties { IsPersistent = false });

    public static long? UserId(ClaimsPrincipal principal) =>
        long.TryParse(principal.FindFirstValue(ClaimTypes.NameIdentifier), out var id) ? id : null;

    /// <summary>Runs on every request with a session cookie: a disabled account, or one whose role, password or
    /// second factor changed since sign-in, is signed out at once rather than when the cookie expires.</summary>
    public static async Task ValidateAsync(CookieValidatePrincipalContext context)
    {
        var principal = context.Principal!;
        var user = UserId(principal) is { } id
            ? await context.HttpContext.RequestServices.GetRequiredService<UserAccounts>().FindAsync(id, context.HttpContext.RequestAborted)
            : null;
        if (user is null || user.DisabledAt is not null
            || user.SecurityStamp != principal.FindFirstValue(AuthSchemes.SecurityStampClaim))
        {
            context.RejectPrincipal();
            await context.HttpContext.SignOutAsync(AuthSchemes.Cookie);
        }
    }
}
