using System.Security.Claims;
using System.Text.Json;
using AlertNet.Infrastructure.Auth;
using AlertNet.Privacy;
using Dapper;
using Hangfire;
using Mediator;
using Microsoft.Extensions.Options;
using Npgsql;

namespace AlertNet.Alerts;

/// <summary>An organizer's Send: saves the alert, then queues its dispatch in the alert's lane; or, when it would
/// reach more than Alerts:ApprovalThreshold people, leaves it awaiting a second organizer's approval (ApproveAlert).
/// <paramref name="SkipApproval"/> is for a run of a recurring campaign, which RunCampaignJob has checked against what a
/// second organizer approved for the campaign.
/// <paramref name="Provenance"/>: how it was verified and the hotline reports it came from (none: not recorded, which the
/// approval rule counts as unverified).</summary>
public sealed record TriggerAlert(string Type, IReadOnlyList<string> Groups, IReadOnlyDictionary<string, string> Bodies,
    DateTimeOffset? SendAt, DateTimeOffset? ExpiresAt, string CreatedBy, bool SkipApproval = false, AlertProvenance? Provenance = null)
    : Mediator.ICommand<TriggerAlertResult>;

public abstract record TriggerAlertResult
{
    /// <summary>Saved: <paramref name="State"/> is "queued", or "awaiting_approval" with the recipients counted.</summary>
    public sealed record Created(long Id, string State = AlertStates.Queued, int? Recipients = null) : TriggerAlertResult
    {
        public bool AwaitingApproval => State == AlertStates.AwaitingApproval;
    }

    public sealed record UnknownGroups(IReadOnlyList<string> Names) : TriggerAlertResult;
}

public sealed class TriggerAlertHandler(NpgsqlDataSource db, IBackgroundJobClient jobs, AuditLog audit, IOptions<AlertsOptions> options,
    Subscribers.Replies replies)
    : ICommandHandler<TriggerAlert, TriggerAlertResult>
{
    public async ValueTask<TriggerAlertResult> Handle(TriggerAlert command, CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        var groups = (await connection.QueryAsync<(long Id, string Name)>(new CommandDefinition(
            "SELECT id, name FROM groups WHERE name = ANY(@names)", new { names = command.Groups.ToArray() },
            cancellationToken: cancellationToken))).ToList();
        var unknown = command.Groups.Except(groups.Select(g => g.Name), StringComparer.Ordinal).ToList();
        if (unknown.Count > 0)
        {
            return new TriggerAlertResult.UnknownGroups(unknown);
        }

        var groupIds = groups.Select(g => g.Id).ToArray();
        var threshold = options.Value.ApprovalThreshold;
        var needsApproval = false;
        int? recipients = null;
        if (threshold > 0 && !command.SkipApproval)
        {
            recipients = await AlertRecipients.CountAsync(connection, null, groupIds, threshold, cancellationToken);
            needsApproval = recipients > threshold;
        }

        // An urgent alert nobody verified may need a second organizer whatever its size (Alerts:UnverifiedUrgentNeedsApproval).
        if (command.Type == AlertType.Urgent && !command.SkipApproval && options.Value.UnverifiedUrgentNeedsApproval
            && command.Provenance is not { IsVerified: true })
        {
            recipients ??= await AlertRecipients.CountAsync(connection, null, groupIds, int.MaxValue - 1, cancellationToken);
            needsApproval = true;
        }

        var state = needsApproval ? AlertStates.AwaitingApproval : AlertStates.Queued;
        var bodies = command.Provenance is { AddLine: true, IsVerified: true } ? WithVerificationLine(command.Bodies) : command.Bodies;
        // Every way of sending (API, composer, SMS) gets the same default; it counts from when the alert goes out.
        var expiresAt = command.ExpiresAt
            ?? (command.Type == AlertType.Urgent && options.Value.DefaultUrgentExpiryMinutes > 0
                ? (command.SendAt ?? DateTimeOffset.UtcNow).AddMinutes(options.Value.DefaultUrgentExpiryMinutes)
                : null);
        var id = await connection.ExecuteScalarAsync<long>(new CommandDefinition(
            """
            INSERT INTO alerts (type, bodies, target_groups, created_by, send_at, expires_at, state, estimated_recipients,
                                verification, verified_by, verified_at)
            VALUES (@type, @bodies::jsonb, @groupIds, @createdBy, @sendAt, @expiresAt, @state, @recipients,
                    @verification, @verifiedBy, CASE WHEN @verification IS NULL THEN NULL ELSE now() END)
            RETURNING id
            """,
            new
            {
                type = command.Type,
                bodies = JsonSerializer.Serialize(bodies),
                groupIds,
                createdBy = command.CreatedBy,
                sendAt = command.SendAt,
                expiresAt,
                state,
                recipients = needsApproval ? recipients : null,
                verification = command.Provenance?.Verification,
                verifiedBy = command.Provenance is null ? null : command.Provenance.VerifiedBy ?? command.CreatedBy,
            },
            cancellationToken: cancellationToken));
        if (command.Provenance is { Reports.Count: > 0 } provenance)
        {
            // The inbox shows which alert each report became: every report of the same sighting (Hotline/GroupReports).
            await connection.ExecuteAsync(new CommandDefinition(
                """
                UPDATE hotline_reports SET alert_id = @id
                WHERE coalesce(sighting, id) IN (SELECT coalesce(sighting, id) FROM hotline_reports WHERE id = ANY(@reports))
                """,
                new { id, reports = provenance.Reports.ToArray() }, cancellationToken: cancellationToken));
        }

        await audit.RecordAsync(command.CreatedBy, "alert.trigger", $"alert:{id}",
            new
            {
                command.Type, command.Groups, languages = command.Bodies.Keys, awaitingApproval = needsApproval, recipients,
                verification = command.Provenance?.Verification, reports = command.Provenance?.Reports,
            },
            cancellationToken);

        if (!needsApproval)
        {
            AlertDispatch.Queue(jobs, id, command.Type, command.SendAt);
        }

        return new TriggerAlertResult.Created(id, state, needsApproval ? recipients : null);
    }

    /// <summary>Each text ends with "Verified by the rapid-response team at 14:05 UTC." in its own language.</summary>
    private Dictionary<string, string> WithVerificationLine(IReadOnlyDictionary<string, string> bodies)
    {
        var time = DateTimeOffset.UtcNow.ToString("HH:mm 'UTC'", System.Globalization.CultureInfo.InvariantCulture);
        return bodies.ToDictionary(b => b.Key,
            b => b.Value + "\n" + replies.Get("verifiedLine", b.Key, new Dictionary<string, string> { ["time"] = time }));
    }
}

/// <param name="Verification">How it was verified: in_person, photo_video, trusted_source or unverified (AlertProvenance).</param>
/// <param name="VerifiedBy">Who verified it (a team, not a person's name); by default the organizer sending it.</param>
/// <param name="Reports">The hotline reports it came from.</param>
/// <param name="VerificationLine">End each text with "Verified by the rapid-response team at 14:05 UTC." in its language.</param>
public sealed record TriggerAlertRequest(string? Type, string[]? Groups, Dictionary<string, string>? Bodies, int? ExpiresInMinutes,
    DateTimeOffset? SendAt, string? Verification = null, string? VerifiedBy = null, long[]? Reports = null, bool VerificationLine = false)
{
    public AlertProvenance? Provenance => Verification is null && Reports is not { Length: > 0 }
        ? null
        : new AlertProvenance(Verification ?? AlertProvenance.Unverified, string.IsNullOrWhiteSpace(VerifiedBy) ? null : VerifiedBy.Trim(),
            Reports?.Distinct().ToArray() ?? [], VerificationLine);
}

public static class TriggerAlertEndpoint
{
    public static void MapTriggerAlert(this IEndpointRouteBuilder app) =>
        app.MapPost("/api/alerts", async (TriggerAlertRequest request, IMediator mediator, ClaimsPrincipal user,
                IOptions<AlertsOptions> approvalThreshold, CancellationToken cancellationToken) =>
            {
                var problem = Validate(request);
                if (problem is not null)
                {
                    return Results.Problem(problem, statusCode: StatusCodes.Status400BadRequest);
                }

                // Expiry counts from when the alert goes out, so a scheduled alert is not born stale.
                var startsAt = request.SendAt ?? DateTimeOffset.UtcNow;
                var expiresAt = request.ExpiresInMinutes is { } minutes ? startsAt.AddMinutes(minutes) : (DateTimeOffset?)null;
                var groups = request.Groups is { Length: > 0 } ? request.Groups.Distinct().ToArray() : ["default"];
                var result = await mediator.Send(
                    new TriggerAlert(request.Type!, groups, request.Bodies!, request.SendAt, expiresAt, Actor.Of(user), Provenance: request.Provenance),
                    cancellationToken);
                return result switch
                {
                    TriggerAlertResult.Created { AwaitingApproval: true } created => Results.Created($"/api/alerts/{created.Id}", new
                    {
                        id = created.Id,
                        state = created.State,
                        recipients = created.Recipients,
                        message = $"This alert would reach {created.Recipients} people, more than {approvalThreshold.Value.ApprovalThreshold}: " +
                            "it is not sent until another organizer approves it (POST /api/alerts/{id}/approve).",
                    }),
                    TriggerAlertResult.Created created => Results.Created($"/api/alerts/{created.Id}", new { id = created.Id, state = created.State }),
                    TriggerAlertResult.UnknownGroups unknown => Results.Problem(
                        $"Unknown group(s): {string.Join(", ", unknown.Names)}.", statusCode: StatusCodes.Status400BadRequest),
                    _ => throw new InvalidOperationException("Unexpected result."),
                };
            })
            .RequireAuthorization(Policies.Organize);

    /// <summary>Why the request cannot be sent, or null; the composer page checks its form with the same rules.</summary>
    internal static string? Validate(TriggerAlertRequest request)
    {
        if (request.Type is not null && AlertType.FollowUps.Contains(request.Type))
        {
            return $"A {request.Type} follows up an alert that went out: POST /api/alerts/{{id}}/follow-ups with that alert's id, " +
                "so it reaches exactly the people the alert reached.";
        }

        if (request.Type is null || !AlertType.ToGroups.Contains(request.Type))
        {
            return $"type must be one of: {string.Join(", ", AlertType.ToGroups)} (corrections, all-clears and retractions: " +
                "POST /api/alerts/{id}/follow-ups).";
        }

        if (AlertBodies.Problem(request.Bodies) is { } bodiesProblem)
        {
            return bodiesProblem;
        }

        if (request.Groups is not null && request.Groups.Any(string.IsNullOrWhiteSpace))
        {
            return "groups must be group names.";
        }

        if (request.SendAt is { } sendAt && (sendAt < DateTimeOffset.UtcNow.AddMinutes(-1) || sendAt > DateTimeOffset.UtcNow.AddDays(90)))
        {
            return "sendAt must be a time in the next 90 days.";
        }

        if (AlertProvenance.Problem(request.Verification, request.VerifiedBy, request.Reports) is { } provenanceProblem)
        {
            return provenanceProblem;
        }

        return request.ExpiresInMinutes is <= 0 or > 10080 ? "expiresInMinutes must be between 1 and 10080." : null;
    }
}
