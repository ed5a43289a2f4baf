using AlertNet.Infrastructure.Auth;
using AlertNet.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.Extensions.Options;

namespace AlertNet.Accounts;

[AllowAnonymous]
public sealed class LoginModel(UserAccounts users, SignInThrottle throttle, IOptions<WebOptions> web, WebText text, TimeProvider clock,
    ILogger<LoginModel> logger) : PageModel
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
        User.Identity is { IsAuthenticated: true, AuthenticationType: AuthSchemes.Cookie } ? LocalRedirect(SafeReturnUrl(Url, ReturnUrl)) : Page();

    public async Task<IActionResult> OnPostAsync(CancellationToken cancellationToken)
    {
        SignedOut = false;
        var name = Name?.Trim() ?? "";
        var attempt = throttle.AttemptOf(HttpContext, name);
        if (await throttle.WaitAsync(attempt, cancellationToken) is { } wait)
        {
            // Refused before the password is looked at, the same for every name: a guess during the wait learns nothing.
            logger.LogWarning("Sign-in attempt held back by the throttle for {Seconds} s", (int)Math.Ceiling(wait.TotalSeconds));
            Response.StatusCode = StatusCodes.Status429TooManyRequests;
            Response.Headers.RetryAfter = ((int)Math.Ceiling(wait.TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture);
            Error = text["login.wait", (int)Math.Ceiling(wait.TotalSeconds)];
            return Page();
        }

        var result = await users.CheckPasswordAsync(name, Password ?? "", cancellationToken);
        switch (result.Outcome)
        {
            case SignInOutcome.Success when web.Value.RequiresTwoFactor(result.User!.Role):
                // A right password, but this role needs a second factor and there is none yet: set it up now.
                await HttpContext.SignInAsync(AuthSchemes.TwoFactor, CookieSessions.Principal(result.User!, AuthSchemes.TwoFactor, clock.GetUtcNow(), setup: true));
                return LocalRedirect("/login/setup?returnUrl=" + Uri.EscapeDataString(SafeReturnUrl(Url, ReturnUrl)));
            case SignInOutcome.Success:
                await CompleteAsync(HttpContext, throttle, result.User!, cancellationToken);
                return LocalRedirect(SafeReturnUrl(Url, ReturnUrl));
            case SignInOutcome.NeedsCode:
                // Knows who, grants nothing until the code is right.
                await HttpContext.SignInAsync(AuthSchemes.TwoFactor, CookieSessions.Principal(result.User!, AuthSchemes.TwoFactor, clock.GetUtcNow()));
                return LocalRedirect("/login/code?returnUrl=" + Uri.EscapeDataString(SafeReturnUrl(Url, ReturnUrl)));
            case SignInOutcome.LockedOut:
                // Only a right password gets here: telling its holder about the lock gives nothing away.
                Error = LockedMessage(text, result.User!, clock);
                logger.LogWarning("Sign-in refused: account {UserId} is locked", result.User!.Id);
                return Page();
            default:
                await throttle.RecordFailureAsync(attempt, cancellationToken);
                Error = text["login.wrong"];
                return Page();
        }
    }

    /// <summary>The last step of every sign-in: the session, the name's failures forgotten, and this browser trusted for it.</summary>
    public static async Task CompleteAsync(HttpContext context, SignInThrottle throttle, UserAccount user, CancellationToken cancellationToken)
    {
        await CookieSessions.SignInAsync(context, user);
        await throttle.ForgetNameAsync(user.Name, cancellationToken);
        throttle.TrustDevice(context, user.Name);
    }

    public static string LockedMessage(WebText text, UserAccount user, TimeProvider clock) =>
        text["login.locked", Math.Max(1, (int)Math.Ceiling((user.LockedUntil!.Value - clock.GetUtcNow().UtcDateTime).TotalMinutes))];

    /// <summary>The framework's own check (what LocalRedirect enforces), so nothing it would refuse gets to it: a
    /// refused address means the home page, never an error.</summary>
    public static string SafeReturnUrl(IUrlHelper url, string? returnUrl) => url.IsLocalUrl(returnUrl) ? returnUrl! : "/";
}
