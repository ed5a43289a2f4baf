using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace AlertNet.Web;

/// <summary>What people see instead of a bare status code (re-executed by the status-code pages).</summary>
[AllowAnonymous]
[IgnoreAntiforgeryToken]
public sealed class StatusModel : PageModel
{
    public string TitleKey { get; private set; } = "status.other";

    public void OnGet(int code) => Show(code);

    public void OnPost(int code) => Show(code);

    private void Show(int code)
    {
        TitleKey = code is 400 or 403 or 404 ? $"status.{code}" : "status.other";
        if (code is >= 400 and < 600)
        {
            Response.StatusCode = code;
        }
    }
}
