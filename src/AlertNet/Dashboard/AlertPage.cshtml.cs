using AlertNet.Alerts;
using AlertNet.Infrastructure.Auth;
using AlertNet.Web;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace AlertNet.Dashboard;

/// <summary>One alert: what it says, who wrote and approved it, and its delivery, live (Web/static/alert-live.js
/// follows GET /api/alerts/{id}/events). Organizers approve (if they did not write it), reject or cancel it here.</summary>
[Authorize(Policy = Policies.Watch)]
public sealed class AlertPageModel(Mediator.IMediator mediator, IAuthorizationService authorization, WebText text) : PageModel
{
    public AlertView Alert { get; private set; } = null!;

    public AlertDashboard Dashboard { get; private set; } = null!;

    public bool MayOrganize { get; private set; }

    public bool IsOwn { get; private set; }

    public bool ConfirmCancel { get; private set; }

    public string? Message { get; private set; }

    public string? Error { get; private set; }

    public bool CanCancel => MayOrganize && Alert.State is AlertStates.AwaitingApproval or AlertStates.Queued or AlertStates.Sending;

    public bool CanApprove => MayOrganize && !IsOwn && Alert.State == AlertStates.AwaitingApproval;

    /// <summary>A correction, all-clear or retraction needs people to send it to: the alert must have gone out.</summary>
    public bool CanFollowUp => MayOrganize && Alert.Recipients > 0 && Alert.State is AlertStates.Sending or AlertStates.Done or AlertStates.Cancelled;

    /// <summary>The follow-up form's text boxes: the original's languages, the default language first.</summary>
    public IReadOnlyList<string> FollowUpLanguages =>
        Alert.Bodies.Keys.Prepend(WebText.DefaultLanguage).Distinct(StringComparer.Ordinal).ToList();

    /// <summary><paramref name="done"/> names what the previous step did (sent, held, approved, rejected, cancelled).</summary>
    public async Task<IActionResult> OnGetAsync(long id, string? done, CancellationToken cancellationToken)
    {
        var page = await LoadAsync(id, cancellationToken);
        if (page is not PageResult)
        {
            return page;
        }

        Message = done switch
        {
            "sent" => text["compose.sent", id],
            "held" => text["compose.held", id, Alert.EstimatedRecipients ?? 0],
            "approved" or "rejected" or "cancelled" => text["alert." + done],
            _ => null,
        };
        return page;
    }

    public async Task<IActionResult> OnPostApproveAsync(long id, CancellationToken cancellationToken)
    {
        if (!await MayOrganizeAsync())
        {
            return Forbid();
        }

        switch (await mediator.Send(new ApproveAlert(id, Actor.Of(User)), cancellationToken))
        {
            case ApproveAlertResult.Approved:
                return RedirectToPage(new { id, done = "approved" });
            case ApproveAlertResult.NotFound:
                return NotFound();
            case ApproveAlertResult.OwnAlert:
                Error = text["alert.approve.refused"];
                break;
            case ApproveAlertResult.Expired:
                Error = text["alert.approve.expired"];
                break;
            default:
                Error = text["alert.approve.late"];
                break;
        }

        return await LoadAsync(id, cancellationToken);
    }

    public async Task<IActionResult> OnPostRejectAsync(long id, string? reason, CancellationToken cancellationToken)
    {
        if (!await MayOrganizeAsync())
        {
            return Forbid();
        }

        var trimmed = RejectAlertEndpoint.FormReason(reason);

        return await mediator.Send(new RejectAlert(id, Actor.Of(User), trimmed), cancellationToken) switch
        {
            RejectAlertResult.Rejected => RedirectToPage(new { id, done = "rejected" }),
            RejectAlertResult.NotFound => NotFound(),
            _ => await ErrorAsync(id, "alert.approve.late", cancellationToken),
        };
    }

    /// <summary>First step of cancelling: the page asks to confirm.</summary>
    public async Task<IActionResult> OnPostCancelAsync(long id, CancellationToken cancellationToken)
    {
        if (!await MayOrganizeAsync())
        {
            return Forbid();
        }

        ConfirmCancel = true;
        return await LoadAsync(id, cancellationToken);
    }

    public async Task<IActionResult> OnPostCancelConfirmedAsync(long id, CancellationToken cancellationToken)
    {
        if (!await MayOrganizeAsync())
        {
            return Forbid();
        }

        return await mediator.Send(new CancelAlert(id, Actor.Of(User)), cancellationToken) switch
        {
            CancelAlertResult.Cancelled => RedirectToPage(new { id, done = "cancelled" }),
            CancelAlertResult.NotFound => NotFound(),
            _ => await ErrorAsync(id, "alert.cancel.late", cancellationToken),
        };
    }

    /// <summary>Send correction, Send all clear or Retract: to the people this alert was sent to (SendFollowUp).</summary>
    public async Task<IActionResult> OnPostFollowUpAsync(long id, string? type, Dictionary<string, string>? bodies,
        CancellationToken cancellationToken)
    {
        if (!await MayOrganizeAsync())
        {
            return Forbid();
        }

        var texts = (bodies ?? []).Where(b => !string.IsNullOrWhiteSpace(b.Value)).ToDictionary(b => b.Key, b => b.Value.Trim());
        if (texts.Count == 0)
        {
            return await ErrorAsync(id, "alert.followup.error.text", cancellationToken);
        }

        if (SendFollowUpEndpoint.Validate(new SendFollowUpRequest(type, texts)) is { } problem)
        {
            Error = text["alert.followup.error", problem];
            return await LoadAsync(id, cancellationToken);
        }

        switch (await mediator.Send(new SendFollowUp(id, type!, texts, Actor.Of(User)), cancellationToken))
        {
            case SendFollowUpResult.Created created:
                return RedirectToPage(new { id = created.Id, done = created.State == AlertStates.AwaitingApproval ? "held" : "sent" });
            case SendFollowUpResult.Refused refused:
                Error = text["alert.followup.error", refused.Reason];
                return await LoadAsync(id, cancellationToken);
            default:
                return NotFound();
        }
    }

    private async Task<IActionResult> ErrorAsync(long id, string key, CancellationToken cancellationToken)
    {
        Error = text[key];
        return await LoadAsync(id, cancellationToken);
    }

    private async Task<bool> MayOrganizeAsync() => (await authorization.AuthorizeAsync(User, Policies.Organize)).Succeeded;

    private async Task<IActionResult> LoadAsync(long id, CancellationToken cancellationToken)
    {
        if (await mediator.Send(new GetAlert(id), cancellationToken) is not { } alert
            || await mediator.Send(new GetAlertDashboard(id), cancellationToken) is not { } dashboard)
        {
            return NotFound();
        }

        Alert = alert;
        Dashboard = dashboard;
        MayOrganize = await MayOrganizeAsync();
        IsOwn = Actor.SamePerson(alert.CreatedBy, Actor.Of(User));
        return Page();
    }
}
