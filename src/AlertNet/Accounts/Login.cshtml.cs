using AlertNet.Infrastructure.Auth;
using AlertNet.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace AlertNet.Accounts;

[AllowAnonymous]
public sealed class LoginModel(UserAccounts users, WebText text, TimeProvider clock, ILogger<LoginModel> logger) : PageModel
{
    [BindProperty(SupportsGet = true)]
    public string? ReturnUrl { get; set; }

    [BindProperty]
    public string? Name { get; set; }

    [BindProperty]
    public string? Password { get; set; }

    [BindProperty(Name = "signedout", SupportsGet = true)]
    public bool SignedOut { get; set; }

    public string? Error { get; private set; }

    public IActionResult OnGet() =>
        User.Identity is { IsAuthenticated: true, AuthenticationType: AuthSchemes.Cookie } ? LocalRedirect(SafeReturnUrl(ReturnUrl)) : Page();

    public async Task<IActionResult> OnPostAsync(CancellationToken cancellationToken)
    {
        SignedOut = false;
        var result = await users.CheckPasswordAsync(Name?.Trim() ?? "", Password ?? "", cancellationToken);
        switch (result.Outcome)
        {
            case SignInOutcome.Success:
                await CookieSessions.SignInAsync(HttpContext, result.User!);
                return LocalRedirect(SafeReturnUrl(ReturnUrl));
            case SignInOutcome.NeedsCode:
                // Knows who, grants nothing until the code is right.
                await HttpContext.SignInAsync(AuthSchemes.TwoFactor, CookieSessions.Principal(result.User!, AuthSchemes.TwoFactor));
                return LocalRedirect("/login/code?returnUrl=" + Uri.EscapeDataString(SafeReturnUrl(ReturnUrl)));
            case SignInOutcome.LockedOut:
                Error = LockedMessage(text, result.User!, clock);
                logger.LogWarning("Sign-in refused: account {UserId} is locked", result.User!.Id);
                return Page();
            default:
                Error = text["login.wrong"];
                return Page();
        }
    }

    public static string LockedMessage(WebText text, UserAccount user, TimeProvider clock) =>
        text["login.locked", Math.Max(1, (int)Math.Ceiling((user.LockedUntil!.Value - clock.GetUtcNow().UtcDateTime).TotalMinutes))];

    public static string SafeReturnUrl(string? returnUrl) =>
        !string.IsNullOrEmpty(returnUrl) && returnUrl.StartsWith('/') && !returnUrl.StartsWith("//", StringComparison.Ordinal)
            && !returnUrl.StartsWith("/\\", StringComparison.Ordinal)
            ? returnUrl
            : "/";
}
