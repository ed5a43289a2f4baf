using AlertNet.Hosting;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Localization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.Extensions.Options;

namespace AlertNet.Web;

/// <summary>The language switcher in the layout's footer: remembers the choice in a cookie for a year.</summary>
[AllowAnonymous]
public sealed class LanguageModel(IOptions<AlertNetOptions> options) : PageModel
{
    public IActionResult OnGet() => LocalRedirect("/");

    public IActionResult OnPost(string? language, string? returnUrl)
    {
        if (language is not null && WebText.Languages.Any(l => l.Code == language))
        {
            Response.Cookies.Append(WebSetup.LanguageCookie,
                CookieRequestCultureProvider.MakeCookieValue(new RequestCulture(language)),
                new CookieOptions
                {
                    Expires = DateTimeOffset.UtcNow.AddYears(1),
                    HttpOnly = true,
                    SameSite = SameSiteMode.Strict,
                    Secure = Request.IsHttps || options.Value.PublicUri.Scheme == Uri.UriSchemeHttps,
                    IsEssential = true,
                });
        }

        return LocalRedirect(Url.IsLocalUrl(returnUrl) ? returnUrl : "/");
    }
}
