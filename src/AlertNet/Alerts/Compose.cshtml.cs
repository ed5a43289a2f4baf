using System.Globalization;
using AlertNet.Hotline;
using AlertNet.Infrastructure.Auth;
using AlertNet.Subscribers;
using AlertNet.Web;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.Extensions.Options;

namespace AlertNet.Alerts;

/// <summary>The composer: kind, groups, text per language, schedule and expiry, then Send (TriggerAlert, with the
/// API's checks). Web/static/composer.js adds the live cost preview (POST /api/alerts/preview) and the test send.</summary>
[Authorize(Policy = Policies.Organize)]
public sealed class ComposeModel(Mediator.IMediator mediator, WebText text, IOptions<AlertsOptions> alertsOptions) : PageModel
{
    /// <summary>The composer's languages, each named in itself; the first two are always open.</summary>
    public static readonly (string Code, string Name)[] Languages =
    [
        ("en", "English"), ("es", "Español"), ("fr", "Français"), ("ht", "Kreyòl ayisyen"), ("pt", "Português"),
        ("zh", "中文"), ("vi", "Tiếng Việt"), ("ar", "العربية"),
    ];

    public static readonly int[] ExpiryMinutes = [15, 30, 60, 120, 240, 720, 1440];

    /// <summary>The kinds offered here; a retraction is sent from the alert's own page.</summary>
    public static readonly string[] Kinds = [AlertType.Urgent, AlertType.Correction, AlertType.AllClear, AlertType.KnowYourRights];

    [BindProperty]
    public string Type { get; set; } = AlertType.Urgent;

    [BindProperty]
    public List<string> Groups { get; set; } = [];

    [BindProperty]
    public Dictionary<string, string> Bodies { get; set; } = [];

    /// <summary>The schedule in UTC (ISO 8601), filled in by the script from the local time the organizer typed.</summary>
    [BindProperty]
    public string? SendAtUtc { get; set; }

    /// <summary>Without the script: the typed time, taken as UTC.</summary>
    [BindProperty]
    public string? SendAtLocal { get; set; }

    [BindProperty]
    public int? ExpiresInMinutes { get; set; }

    /// <summary>How the sighting was verified (AlertProvenance); "unverified" unless the organizer says otherwise.</summary>
    [BindProperty]
    public string Verification { get; set; } = AlertProvenance.Unverified;

    [BindProperty]
    public bool VerificationLine { get; set; }

    /// <summary>The hotline report the alert comes from, carried from "Turn into alert" through the form.</summary>
    [BindProperty]
    public long? Report { get; set; }

    /// <summary>For a correction or all-clear: the alert it follows up (SendFollowUp).</summary>
    [BindProperty]
    public long? FollowUpOf { get; set; }

    public IReadOnlyList<GroupSummary> AllGroups { get; private set; } = [];

    public IReadOnlyList<FollowUpOriginal> Originals { get; private set; } = [];

    /// <summary>What "no choice" of expiry means for an urgent alert (Alerts:DefaultUrgentExpiryMinutes), in hours.</summary>
    public double DefaultUrgentExpiryHours => alertsOptions.Value.DefaultUrgentExpiryMinutes / 60.0;

    public string? Error { get; private set; }

    /// <summary>The hotline report the text was taken from ("Turn into alert" in the inbox), if any.</summary>
    public long? FromReport { get; private set; }

    /// <param name="report">A hotline report whose text fills the box of the page's language: the id travels in the
    /// address, never the text, which must stay out of request logs.</param>
    public async Task OnGetAsync(long? report, CancellationToken cancellationToken)
    {
        await LoadChoicesAsync(cancellationToken);
        Groups = AllGroups.Where(g => g.IsDefault).Select(g => g.Name).ToList();
        if (report is > 0 && report < long.MaxValue
            && (await mediator.Send(new ListReports(report + 1, 1), cancellationToken)).Reports is [var found] && found.Id == report)
        {
            var language = Languages.Any(l => l.Code == WebText.CurrentLanguage) ? WebText.CurrentLanguage : WebText.DefaultLanguage;
            Bodies[language] = found.Text;
            FromReport = found.Id;
            Report = found.Id;
        }
    }

    public async Task<IActionResult> OnPostAsync(CancellationToken cancellationToken)
    {
        await LoadChoicesAsync(cancellationToken);
        var bodies = Bodies.Where(b => !string.IsNullOrWhiteSpace(b.Value) && Languages.Any(l => l.Code == b.Key))
            .ToDictionary(b => b.Key, b => b.Value.Trim());
        if (AlertType.FollowUps.Contains(Type))
        {
            return await SendFollowUpAsync(bodies, cancellationToken);
        }

        DateTimeOffset? sendAt = null;
        var scheduled = string.IsNullOrWhiteSpace(SendAtUtc) ? SendAtLocal : SendAtUtc;
        if (!string.IsNullOrWhiteSpace(scheduled))
        {
            if (!DateTimeOffset.TryParse(scheduled, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var parsed))
            {
                return Fail(text["compose.error.schedule"]);
            }

            sendAt = parsed;
        }

        if (Groups.Count == 0)
        {
            return Fail(text["compose.error.groups"]);
        }

        if (bodies.Count == 0)
        {
            return Fail(text["compose.error.text"]);
        }

        FromReport = Report;
        var request = new TriggerAlertRequest(Type, [.. Groups.Distinct()], bodies, ExpiresInMinutes, sendAt, Verification, null,
            Report is { } report ? [report] : null, VerificationLine);
        if (TriggerAlertEndpoint.Validate(request) is { } problem)
        {
            return Fail(text["compose.error", problem]);
        }

        var startsAt = sendAt ?? DateTimeOffset.UtcNow;
        var expiresAt = ExpiresInMinutes is { } minutes ? startsAt.AddMinutes(minutes) : (DateTimeOffset?)null;
        var result = await mediator.Send(new TriggerAlert(Type, request.Groups!, bodies, sendAt, expiresAt, Actor.Of(User),
            Provenance: request.Provenance), cancellationToken);
        return result switch
        {
            TriggerAlertResult.Created created => Redirect($"/alerts/{created.Id}?done={(created.AwaitingApproval ? "held" : "sent")}"),
            TriggerAlertResult.UnknownGroups unknown => Fail(text["compose.error", string.Join(", ", unknown.Names)]),
            _ => throw new InvalidOperationException("Unexpected result."),
        };
    }

    /// <summary>A correction or all-clear goes to the people its original reached: groups, schedule and expiry do not
    /// apply.</summary>
    private async Task<IActionResult> SendFollowUpAsync(Dictionary<string, string> bodies, CancellationToken cancellationToken)
    {
        if (FollowUpOf is not { } original)
        {
            return Fail(text["compose.error.original"]);
        }

        if (bodies.Count == 0)
        {
            return Fail(text["compose.error.text"]);
        }

        if (SendFollowUpEndpoint.Validate(new SendFollowUpRequest(Type, bodies)) is { } problem)
        {
            return Fail(text["compose.error", problem]);
        }

        return await mediator.Send(new SendFollowUp(original, Type, bodies, Actor.Of(User)), cancellationToken) switch
        {
            SendFollowUpResult.Created created =>
                Redirect($"/alerts/{created.Id}?done={(created.State == AlertStates.AwaitingApproval ? "held" : "sent")}"),
            SendFollowUpResult.Refused refused => Fail(text["compose.error", refused.Reason]),
            _ => Fail(text["compose.error.original"]),
        };
    }

    private async Task LoadChoicesAsync(CancellationToken cancellationToken)
    {
        AllGroups = await mediator.Send(new ListGroups(), cancellationToken);
        Originals = await mediator.Send(new ListFollowUpOriginals(), cancellationToken);
    }

    private PageResult Fail(string error)
    {
        Error = error;
        return Page();
    }
}
