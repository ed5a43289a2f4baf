using System.Globalization;
using AlertNet.Infrastructure.Auth;
using Microsoft.AspNetCore.Http.Extensions;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace AlertNet.Privacy;

/// <summary>The audit log for admins (ListAudit, as GET /api/audit): newest first, filtered by actor and action,
/// a page at a time. The filters are organizers' names and action names, never a subscriber's data, so they can
/// sit in the address.</summary>
[Authorize(Policy = Policies.Administer)]
public sealed class AuditViewerModel(Mediator.IMediator mediator) : PageModel
{
    public const int PageSize = 50;
    private const int MaxFilterLength = 200;

    [BindProperty(SupportsGet = true)]
    public string? Actor { get; set; }

    [BindProperty(SupportsGet = true)]
    public string? Action { get; set; }

    [BindProperty(SupportsGet = true)]
    public long? Before { get; set; }

    public AuditPage Entries { get; private set; } = new([], null);

    public async Task<IActionResult> OnGetAsync(CancellationToken cancellationToken)
    {
        Actor = string.IsNullOrWhiteSpace(Actor) ? null : Actor.Trim();
        Action = string.IsNullOrWhiteSpace(Action) ? null : Action.Trim();
        if (Before is <= 0 || Actor?.Length > MaxFilterLength || Action?.Length > MaxFilterLength)
        {
            return BadRequest();
        }

        Entries = await mediator.Send(new ListAudit(Before, PageSize, Actor, Action), cancellationToken);
        return Page();
    }

    /// <summary>The address of another page of the same filtered list.</summary>
    public string PageUrl(long? before) => Address(Actor, Action, before);

    public static string Address(string? actor, string? action, long? before)
    {
        var query = new QueryBuilder();
        foreach (var (key, value) in new[] { ("actor", actor), ("action", action), ("before", before?.ToString(CultureInfo.InvariantCulture)) })
        {
            if (value is not null)
            {
                query.Add(key, value);
            }
        }

        return "/admin/audit" + query.ToQueryString();
    }
}
