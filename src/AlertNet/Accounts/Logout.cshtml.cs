using AlertNet.Infrastructure.Auth;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace AlertNet.Accounts;

/// <summary>Signing out is a POST with the form token (a link could be triggered by another site); GET asks.</summary>
[Authorize(Policy = Policies.Watch)]
public sealed class LogoutModel : PageModel
{
    public void OnGet()
    {
    }

    public async Task<IActionResult> OnPostAsync()
    {
        await HttpContext.SignOutAsync(AuthSchemes.Cookie);
        return LocalRedirect("/login?signedout=true");
    }
}
