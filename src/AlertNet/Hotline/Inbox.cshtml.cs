using AlertNet.Infrastructure.Auth;
using AlertNet.Web;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace AlertNet.Hotline;

/// <summary>The hotline inbox over ListReports and ReviewReport: coordinators mark a report verified or a false
/// alarm; organizers turn a report into an alert (the composer, pre-filled by the report's id, never its text in
/// the address, so the text stays out of request logs).</summary>
[Authorize(Policy = Policies.Watch)]
public sealed class InboxModel(Mediator.IMediator mediator, IAuthorizationService authorization, WebText text) : PageModel
{
    public const int PageSize = 25;

    public ReportPage Reports { get; private set; } = new([], null);

    public bool MayOrganize { get; private set; }

    public long? Before { get; private set; }

    public string? Message { get; private set; }

    public async Task<IActionResult> OnGetAsync(long? before, string? reviewed, CancellationToken cancellationToken)
    {
        if (before is <= 0)
        {
            return BadRequest();
        }

        Before = before;
        Message = reviewed is { } status && ReportStatus.Verdicts.Contains(status) ? text["hotline.reviewed." + status]
            : reviewed is "grouped" or "notgrouped" ? text["hotline." + reviewed] : null;
        MayOrganize = (await authorization.AuthorizeAsync(User, Policies.Organize)).Succeeded;
        Reports = await mediator.Send(new ListReports(before, PageSize), cancellationToken);
        return Page();
    }

    public async Task<IActionResult> OnPostReviewAsync(long id, string? status, long? before, CancellationToken cancellationToken)
    {
        if (status is null || !ReportStatus.Verdicts.Contains(status))
        {
            return BadRequest();
        }

        if (await mediator.Send(new ReviewReport(id, status, Actor.Of(User)), cancellationToken) is null)
        {
            return NotFound();
        }

        return RedirectToPage(new { before, reviewed = status });
    }

    /// <summary>"Same sighting as report #": the two reports' groups become one (GroupReports).</summary>
    public async Task<IActionResult> OnPostGroupAsync(long id, long? sameAs, CancellationToken cancellationToken)
    {
        var result = sameAs is > 0 ? await mediator.Send(new GroupReports(id, sameAs.Value, Actor.Of(User)), cancellationToken) : GroupReportsResult.NotFound;
        return RedirectToPage(new { reviewed = result == GroupReportsResult.Grouped ? "grouped" : "notgrouped" });
    }
}
