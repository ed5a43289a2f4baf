using AlertNet.Infrastructure.Auth;
using AlertNet.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace AlertNet.Accounts;

/// <summary>The second sign-in step, for accounts with an authenticator app.</summary>
[AllowAnonymous]
public sealed class LoginCodeModel(UserAccounts users, SignInThrottle throttle, WebText text, TimeProvider clock, ILogger<LoginCodeModel> logger) : PageModel
{
    [BindProperty(SupportsGet = true)]
    public string? ReturnUrl { get; set; }

    public string? Error { get; private set; }

    public async Task<IActionResult> OnGetAsync() =>
        await PendingUserIdAsync() is null ? LocalRedirect("/login") : Page();

    public async Task<IActionResult> OnPostAsync(string? code, CancellationToken cancellationToken)
    {
        if (await PendingUserIdAsync() is not { } id)
        {
            return LocalRedirect("/login");
        }

        var result = await users.CheckCodeAsync(id, code ?? "", cancellationToken);
        switch (result.Outcome)
        {
            case SignInOutcome.Success:
                await HttpContext.SignOutAsync(AuthSchemes.TwoFactor);
                await LoginModel.CompleteAsync(HttpContext, throttle, (await users.FindAsync(id, cancellationToken))!, cancellationToken);
                return LocalRedirect(LoginModel.SafeReturnUrl(Url, ReturnUrl));
            case SignInOutcome.LockedOut:
                await HttpContext.SignOutAsync(AuthSchemes.TwoFactor);
                logger.LogWarning("Sign-in refused: account {UserId} is locked", id);
                Error = LoginModel.LockedMessage(text, result.User!, clock);
                return Page();
            default:
                Error = text["code.wrong"];
                return Page();
        }
    }

    private async Task<long?> PendingUserIdAsync()
    {
        var pending = await HttpContext.AuthenticateAsync(AuthSchemes.TwoFactor);
        return pending.Succeeded && !pending.Principal.HasClaim(AuthSchemes.SetupClaim, "true") ? CookieSessions.UserId(pending.Principal) : null;
    }
}
