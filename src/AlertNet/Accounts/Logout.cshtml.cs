using AlertNet.Infrastructure.Auth;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace AlertNet.Accounts;

/// <summary>Signing out is a POST with the form token (a link could be triggered by another site); GET asks.</summary>
[Authorize(Policy = Policies.Watch)]
public sealed class LogoutModel(UserAccounts users) : PageModel
{
    public void OnGet()
    {
    }

    public async Task<IActionResult> OnPostAsync(CancellationToken cancellationToken)
    {
        // Ends the session on the server (every session of the account: a copy of the cookie made before is refused
        // from now on), not only in this browser.
        if (CookieSessions.UserId(User) is { } id)
        {
            await users.EndSessionsAsync(id, cancellationToken);
        }

        await HttpContext.SignOutAsync(AuthSchemes.Cookie);
        return LocalRedirect("/login?signedout=true");
    }
}
