using AlertNet.Alerts;
using AlertNet.Infrastructure.Auth;
using AlertNet.Web;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace AlertNet.Dashboard;

/// <summary>Large sends waiting for a second organizer: alerts (approving and rejecting post to the alert page) and
/// recurring campaigns (approved or rejected here, for the version the approver saw).</summary>
[Authorize(Policy = Policies.Watch)]
public sealed class ApprovalsModel(Mediator.IMediator mediator, IAuthorizationService authorization, WebText text) : PageModel
{
    public IReadOnlyList<AwaitingApproval> Waiting { get; private set; } = [];

    public IReadOnlyList<AwaitingCampaign> Campaigns { get; private set; } = [];

    public string? Message { get; private set; }

    public string? Error { get; private set; }

    /// <summary><paramref name="done"/> names what the previous step did to a campaign (approved, rejected).</summary>
    public async Task OnGetAsync(string? done, CancellationToken cancellationToken)
    {
        Message = done is "campaign-approved" or "campaign-rejected" ? text["approvals." + done] : null;
        await LoadAsync(cancellationToken);
    }

    public async Task<IActionResult> OnPostApproveCampaignAsync(long id, string? version, CancellationToken cancellationToken)
    {
        if (!await MayOrganizeAsync())
        {
            return Forbid();
        }

        // Without the version the form carried, this would approve whatever the campaign says now: refuse instead.
        Error = await mediator.Send(new ApproveCampaign(id, Actor.Of(User), version ?? ""), cancellationToken) switch
        {
            ApproveCampaignResult.Approved => null,
            ApproveCampaignResult.OwnCampaign => text["approvals.campaign.own"],
            ApproveCampaignResult.Changed => text["approvals.campaign.changed"],
            _ => text["approvals.campaign.late"],
        };
        return await DoneOrErrorAsync("campaign-approved", cancellationToken);
    }

    public async Task<IActionResult> OnPostRejectCampaignAsync(long id, string? reason, CancellationToken cancellationToken)
    {
        if (!await MayOrganizeAsync())
        {
            return Forbid();
        }

        var trimmed = RejectAlertEndpoint.FormReason(reason);

        Error = await mediator.Send(new RejectCampaign(id, Actor.Of(User), trimmed), cancellationToken) == RejectCampaignResult.Rejected
            ? null
            : text["approvals.campaign.late"];
        return await DoneOrErrorAsync("campaign-rejected", cancellationToken);
    }

    private async Task<IActionResult> DoneOrErrorAsync(string done, CancellationToken cancellationToken)
    {
        if (Error is null)
        {
            return RedirectToPage(new { done });
        }

        await LoadAsync(cancellationToken);
        return Page();
    }

    private async Task LoadAsync(CancellationToken cancellationToken)
    {
        var mayApprove = User.IsInRole(Roles.Organizer) || User.IsInRole(Roles.Admin);
        Waiting = await mediator.Send(new ListApprovals(Actor.Of(User), mayApprove), cancellationToken);
        Campaigns = await mediator.Send(new ListCampaignApprovals(Actor.Of(User), mayApprove), cancellationToken);
    }

    private async Task<bool> MayOrganizeAsync() => (await authorization.AuthorizeAsync(User, Policies.Organize)).Succeeded;
}
