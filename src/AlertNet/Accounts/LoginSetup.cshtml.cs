using AlertNet.Infrastructure.Auth;
using AlertNet.Privacy;
using AlertNet.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace AlertNet.Accounts;

/// <summary>Sign-in for an admin or organizer whose second factor is required (Web:RequireTwoFactor) but not set up yet:
/// the password was right, and no session exists until an authenticator app proves it holds a new secret.</summary>
[AllowAnonymous]
public sealed class LoginSetupModel(UserAccounts users, SignInThrottle throttle, AuditLog audit, WebText text,
    IDataProtectionProvider dataProtection) : PageModel
{
    [BindProperty(SupportsGet = true)]
    public string? ReturnUrl { get; set; }

    public TotpEnrollment? Offer { get; private set; }

    public string? Error { get; private set; }

    public async Task<IActionResult> OnGetAsync(CancellationToken cancellationToken)
    {
        if (await PendingUserAsync(cancellationToken) is not { } user)
        {
            return LocalRedirect("/login");
        }

        Offer = TotpEnrollment.Offer(dataProtection, user.Name, UserAccounts.NewTotpSecret());
        return Page();
    }

    public async Task<IActionResult> OnPostAsync(string? protectedSecret, string? code, CancellationToken cancellationToken)
    {
        if (await PendingUserAsync(cancellationToken) is not { } user)
        {
            return LocalRedirect("/login");
        }

        if (TotpEnrollment.Read(dataProtection, protectedSecret) is not { } secret)
        {
            Error = text["twofactor.expired"];
            Offer = TotpEnrollment.Offer(dataProtection, user.Name, UserAccounts.NewTotpSecret());
            return Page();
        }

        if (!await users.EnableTotpAsync(user.Id, secret, code ?? "", cancellationToken))
        {
            Error = text["code.wrong"];
            Offer = TotpEnrollment.Offer(dataProtection, user.Name, secret);
            return Page();
        }

        await audit.RecordAsync(user.Name, "user.two-factor.enable", $"user:{user.Name}", new { atSignIn = true }, cancellationToken);
        await HttpContext.SignOutAsync(AuthSchemes.TwoFactor);
        await LoginModel.CompleteAsync(HttpContext, throttle, (await users.FindAsync(user.Id, cancellationToken))!, cancellationToken);
        return LocalRedirect(LoginModel.SafeReturnUrl(Url, ReturnUrl));
    }

    /// <summary>The account that gave its right password moments ago, unchanged since (same stamp) and still without a second factor.</summary>
    private async Task<UserAccount?> PendingUserAsync(CancellationToken cancellationToken)
    {
        var pending = await HttpContext.AuthenticateAsync(AuthSchemes.TwoFactor);
        if (!pending.Succeeded || !pending.Principal.HasClaim(AuthSchemes.SetupClaim, "true")
            || CookieSessions.UserId(pending.Principal) is not { } id
            || await users.FindAsync(id, cancellationToken) is not { DisabledAt: null, HasTotp: false } user
            || user.SecurityStamp != pending.Principal.FindFirst(AuthSchemes.SecurityStampClaim)?.Value)
        {
            return null;
        }

        return user;
    }
}
