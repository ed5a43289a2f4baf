using AlertNet.Alerts;
using AlertNet.Infrastructure.Auth;
using AlertNet.Subscribers;
using AlertNet.Web;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace AlertNet.Rights;

/// <summary>The know-your-rights library: coordinators read it; organizers write a message per language with the
/// composer's live segment count (Web/static/composer.js and POST /api/alerts/preview), then send it now (a
/// know_your_rights alert through TriggerAlert, with its approval rule) or schedule it as a recurring campaign
/// (ScheduleCampaign). Every action saves the message first, so what goes out is what the library holds.</summary>
[Authorize(Policy = Policies.Watch)]
public sealed class LibraryModel(Mediator.IMediator mediator, IAuthorizationService authorization, WebText text) : PageModel
{
    public IReadOnlyList<RightsMessage> Messages { get; private set; } = [];

    public IReadOnlyList<GroupSummary> AllGroups { get; private set; } = [];

    public bool MayOrganize { get; private set; }

    /// <summary>The editor is open: for a new message (Id null) or for Id.</summary>
    public bool Editing { get; private set; }

    [BindProperty]
    public long? Id { get; set; }

    [BindProperty]
    public string? Title { get; set; }

    [BindProperty]
    public Dictionary<string, string> Bodies { get; set; } = [];

    [BindProperty]
    public List<string> Groups { get; set; } = [];

    [BindProperty]
    public string? Cron { get; set; }

    [BindProperty]
    public string? TimeZone { get; set; } = "America/New_York";

    public string? Message { get; private set; }

    public string? Error { get; private set; }

    /// <param name="edit">"new", or the id of the message to edit (organizers).</param>
    public async Task<IActionResult> OnGetAsync(string? edit, string? done, CancellationToken cancellationToken)
    {
        await LoadAsync(cancellationToken);
        Groups = AllGroups.Where(g => g.IsDefault).Select(g => g.Name).ToList();
        Message = done is "saved" or "scheduled" or "scheduled-held" ? text["rights." + done] : null;
        if (edit is null)
        {
            return Page();
        }

        if (!MayOrganize)
        {
            return Forbid();
        }

        Editing = true;
        if (edit != "new")
        {
            if (!long.TryParse(edit, out var id) || Messages.FirstOrDefault(m => m.Id == id) is not { } message)
            {
                return NotFound();
            }

            (Id, Title, Bodies) = (message.Id, message.Title, message.Bodies.ToDictionary());
        }

        return Page();
    }

    public Task<IActionResult> OnPostSaveAsync(CancellationToken cancellationToken) =>
        ActAsync(id => Task.FromResult<IActionResult>(Redirect($"/rights?done=saved#message-{id}")), cancellationToken);

    public Task<IActionResult> OnPostSendAsync(CancellationToken cancellationToken) =>
        ActAsync(async id =>
        {
            var result = await mediator.Send(new TriggerAlert(AlertType.KnowYourRights, [.. Groups.Distinct()], CleanBodies(), null, null, Actor.Of(User)),
                cancellationToken);
            return result switch
            {
                TriggerAlertResult.Created created => Redirect($"/alerts/{created.Id}?done={(created.AwaitingApproval ? "held" : "sent")}"),
                _ => Fail(text["rights.error.groups"]),
            };
        }, cancellationToken);

    public Task<IActionResult> OnPostScheduleAsync(CancellationToken cancellationToken) =>
        ActAsync(async id =>
        {
            if (string.IsNullOrWhiteSpace(Cron))
            {
                return Fail(text["rights.error.cron"]);
            }

            if (string.IsNullOrWhiteSpace(TimeZone) || !TimeZoneInfo.TryFindSystemTimeZoneById(TimeZone, out _))
            {
                return Fail(text["rights.error.timezone"]);
            }

            var name = $"{Title!.Trim()} ({Cron.Trim()})";
            var result = await mediator.Send(new ScheduleCampaign(name.Length > 100 ? name[..100] : name, Cron.Trim(), TimeZone, [.. Groups.Distinct()],
                CleanBodies(), Actor.Of(User)), cancellationToken);
            return result switch
            {
                ScheduleCampaignResult.Scheduled { AwaitingApproval: true } => Redirect($"/rights?done=scheduled-held#message-{id}"),
                ScheduleCampaignResult.Scheduled => Redirect($"/rights?done=scheduled#message-{id}"),
                // The reason (seconds field, runs too close together) is the API's, in English, after the form's own hint.
                ScheduleCampaignResult.InvalidCron invalid => Fail(text["rights.error.cron"] + " " + invalid.Reason),
                _ => Fail(text["rights.error.campaign", name]),
            };
        }, cancellationToken);

    /// <summary>Checks the form, saves the message, then does <paramref name="then"/> with its id.</summary>
    private async Task<IActionResult> ActAsync(Func<long, Task<IActionResult>> then, CancellationToken cancellationToken)
    {
        await LoadAsync(cancellationToken);
        if (!MayOrganize)
        {
            return Forbid();
        }

        Editing = true;
        if (string.IsNullOrWhiteSpace(Title) || Title.Trim().Length > 100)
        {
            return Fail(text["rights.error.title"]);
        }

        var bodies = CleanBodies();
        if (bodies.Count == 0)
        {
            return Fail(text["compose.error.text"]);
        }

        if (AlertBodies.Problem(bodies) is { } problem)
        {
            return Fail(text["rights.error.invalid", problem]);
        }

        if (Groups.Count == 0 || Groups.Any(g => AllGroups.All(known => known.Name != g)))
        {
            return Fail(text["rights.error.groups"]);
        }

        if (await mediator.Send(new SaveRightsMessage(Id, Title.Trim(), bodies, Actor.Of(User)), cancellationToken) is not { } id)
        {
            return Fail(text["rights.error.title.taken"]);
        }

        Id = id;
        return await then(id);
    }

    private Dictionary<string, string> CleanBodies() =>
        Bodies.Where(b => !string.IsNullOrWhiteSpace(b.Value) && ComposeModel.Languages.Any(l => l.Code == b.Key))
            .ToDictionary(b => b.Key, b => b.Value.Trim());

    private async Task LoadAsync(CancellationToken cancellationToken)
    {
        MayOrganize = (await authorization.AuthorizeAsync(User, Policies.Organize)).Succeeded;
        Messages = await mediator.Send(new ListRightsMessages(), cancellationToken);
        AllGroups = await mediator.Send(new ListGroups(), cancellationToken);
    }

    private PageResult Fail(string error)
    {
        Error = error;
        return Page();
    }
}
