using AlertNet.Alerts;
using AlertNet.Infrastructure.Auth;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace AlertNet.Dashboard;

/// <summary>Large sends waiting for a second organizer; approving and rejecting post to the alert page.</summary>
[Authorize(Policy = Policies.Watch)]
public sealed class ApprovalsModel(Mediator.IMediator mediator) : PageModel
{
    public IReadOnlyList<AwaitingApproval> Waiting { get; private set; } = [];

    public async Task OnGetAsync(CancellationToken cancellationToken) =>
        Waiting = await mediator.Send(new ListApprovals(Actor.Of(User), User.IsInRole(Roles.Organizer) || User.IsInRole(Roles.Admin)),
            cancellationToken);
}
