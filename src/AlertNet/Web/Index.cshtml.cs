using System.Security.Claims;
using AlertNet.Infrastructure.Auth;
using AlertNet.Infrastructure.Twilio;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace AlertNet.Web;

/// <summary>The page after sign-in; the overview replaces it.</summary>
[Authorize(Policy = Policies.Watch)]
public sealed class IndexModel(IAuthorizationService authorization, TwilioSettings twilio) : PageModel
{
    public string Role { get; private set; } = "";

    public IReadOnlyList<NavItem> Links { get; private set; } = [];

    public async Task OnGetAsync()
    {
        Role = User.FindFirstValue(ClaimTypes.Role) ?? "";
        var links = new List<NavItem>();
        foreach (var item in Navigation.Items.Where(i => i.Path != "/" && (!i.DrillOnly || twilio.HasPhoneSimulator)))
        {
            if ((await authorization.AuthorizeAsync(User, item.Policy)).Succeeded)
            {
                links.Add(item);
            }
        }

        Links = links;
    }
}
