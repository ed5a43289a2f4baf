using System.Security.Claims;
using System.Text.Json;
using AlertNet.Infrastructure.Auth;
using AlertNet.Infrastructure.Jobs;
using AlertNet.Privacy;
using Dapper;
using Hangfire;
using Microsoft.Extensions.Options;
using Npgsql;

namespace AlertNet.Alerts;

/// <summary>A recurring know-your-rights campaign: a cron schedule in a time zone, the groups, the text
/// per language. Hangfire's recurring job runs it; the campaigns table is the list organizers see. A campaign whose
/// runs would reach more than Alerts:ApprovalThreshold people is created awaiting a second organizer's approval
/// (<see cref="ApproveCampaign"/>) and does not run until then.</summary>
public sealed record ScheduleCampaign(string Name, string Cron, string TimeZone, IReadOnlyList<string> Groups,
    IReadOnlyDictionary<string, string> Bodies, string CreatedBy) : Mediator.ICommand<ScheduleCampaignResult>;

public abstract record ScheduleCampaignResult
{
    /// <summary>Saved and scheduled: <paramref name="State"/> is "active", or "awaiting_approval" with the people counted.</summary>
    public sealed record Scheduled(long Id, string State = CampaignStates.Active, int? Recipients = null) : ScheduleCampaignResult
    {
        public bool AwaitingApproval => State == CampaignStates.AwaitingApproval;
    }

    public sealed record NameTaken : ScheduleCampaignResult;

    public sealed record InvalidCron(string Reason) : ScheduleCampaignResult;
}

/// <summary>A campaign's states (campaigns.state): awaiting_approval → active (approved) or rejected; an active
/// campaign goes back to awaiting_approval when it changes or a run would reach too many more people.</summary>
public static class CampaignStates
{
    public const string AwaitingApproval = "awaiting_approval";
    public const string Active = "active";
    public const string Rejected = "rejected";
}

public sealed class ScheduleCampaignHandler(NpgsqlDataSource db, IRecurringJobManager recurring, AuditLog audit, IOptions<AlertsOptions> options)
    : Mediator.ICommandHandler<ScheduleCampaign, ScheduleCampaignResult>
{
    public async ValueTask<ScheduleCampaignResult> Handle(ScheduleCampaign command, CancellationToken cancellationToken)
    {
        var zone = TimeZoneInfo.FindSystemTimeZoneById(command.TimeZone);
        if (CampaignSchedule.Problem(command.Cron, zone, options.Value.CampaignMinimumInterval, DateTimeOffset.UtcNow) is { } problem)
        {
            return new ScheduleCampaignResult.InvalidCron(problem);
        }

        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var (state, recipients) = await CampaignApproval.StateForAsync(connection, transaction, command.Groups, options.Value, cancellationToken);
        var id = await connection.ExecuteScalarAsync<long?>(new CommandDefinition(
            """
            INSERT INTO campaigns (name, cron, time_zone, bodies, target_groups, created_by, requested_by, state, awaiting_reason, estimated_recipients)
            VALUES (@Name, @Cron, @TimeZone, @bodies::jsonb, @groups, @CreatedBy, @CreatedBy, @state,
                    CASE WHEN @state = 'awaiting_approval' THEN 'created' END, @recipients)
            ON CONFLICT (name) DO NOTHING
            RETURNING id
            """,
            new
            {
                command.Name, command.Cron, command.TimeZone, bodies = JsonSerializer.Serialize(command.Bodies), groups = command.Groups.ToArray(),
                command.CreatedBy, state, recipients,
            },
            transaction, cancellationToken: cancellationToken));
        if (id is not { } campaignId)
        {
            return new ScheduleCampaignResult.NameTaken();
        }

        try
        {
            // Hangfire parses the cron expression here; a bad one leaves nothing behind (the row rolls back). The job is
            // registered even while the campaign awaits approval: each run reads the campaign's state and holds.
            recurring.AddOrUpdate<RunCampaignJob>(RunCampaignJob.RecurringJobId(campaignId), Lanes.Bulk,
                job => job.RunAsync(campaignId, CancellationToken.None), command.Cron,
                new RecurringJobOptions { TimeZone = zone });
        }
        catch (ArgumentException)
        {
            return new ScheduleCampaignResult.InvalidCron(CampaignSchedule.Example);
        }

        await transaction.CommitAsync(cancellationToken);
        await audit.RecordAsync(command.CreatedBy, "campaign.schedule", $"campaign:{campaignId}",
            new { command.Name, command.Cron, command.TimeZone, command.Groups, awaitingApproval = state == CampaignStates.AwaitingApproval, recipients },
            cancellationToken);
        return new ScheduleCampaignResult.Scheduled(campaignId, state, state == CampaignStates.AwaitingApproval ? recipients : null);
    }
}

/// <summary>The approval rule for campaigns, shared by create, change and each run.</summary>
internal static class CampaignApproval
{
    /// <summary>A run may reach this share more people than a second organizer approved before it waits again.</summary>
    public const int GrowthPercent = 10;

    /// <summary>The state a created or changed campaign starts in, and the people its runs would reach now.</summary>
    public static async Task<(string State, int? Recipients)> StateForAsync(NpgsqlConnection connection, NpgsqlTransaction transaction,
        IEnumerable<string> groups, AlertsOptions options, CancellationToken cancellationToken)
    {
        if (options.ApprovalThreshold <= 0)
        {
            return (CampaignStates.Active, null);
        }

        var groupIds = await AlertRecipients.GroupIdsAsync(connection, transaction, groups, cancellationToken);
        var recipients = await AlertRecipients.CountAsync(connection, transaction, groupIds, options.ApprovalThreshold, cancellationToken);
        return (recipients > options.ApprovalThreshold ? CampaignStates.AwaitingApproval : CampaignStates.Active, recipients);
    }

    /// <summary>Whether a run to <paramref name="recipients"/> people must wait for approval again: above the threshold
    /// and either never approved by a second organizer or more than <see cref="GrowthPercent"/> % above what was.</summary>
    public static bool RunNeedsApproval(int recipients, int? approvedRecipients, int threshold) =>
        threshold > 0 && recipients > threshold
        && (approvedRecipients is not { } approved || (long)recipients * 100 > (long)approved * (100 + GrowthPercent));
}

public sealed record ScheduleCampaignRequest(string? Name, string? Cron, string? TimeZone, string[]? Groups, Dictionary<string, string>? Bodies);

public static class CampaignEndpoints
{
    public static void MapCampaigns(this IEndpointRouteBuilder app)
    {
        app.MapPost("/api/campaigns", async (ScheduleCampaignRequest request, Mediator.IMediator mediator, ClaimsPrincipal user,
                NpgsqlDataSource db, IOptions<AlertsOptions> options, CancellationToken cancellationToken) =>
            {
                var (problem, zone, groups) = await ValidateAsync(request, db, cancellationToken);
                if (problem is not null)
                {
                    return Results.Problem(problem, statusCode: StatusCodes.Status400BadRequest);
                }

                return await mediator.Send(new ScheduleCampaign(request.Name!, request.Cron!.Trim(), zone, groups, request.Bodies!, Actor.Of(user)),
                        cancellationToken) switch
                {
                    ScheduleCampaignResult.Scheduled { AwaitingApproval: true } created => Results.Created($"/api/campaigns/{created.Id}", new
                    {
                        id = created.Id,
                        state = created.State,
                        recipients = created.Recipients,
                        message = AwaitingMessage(created.Recipients, options.Value.ApprovalThreshold),
                    }),
                    ScheduleCampaignResult.Scheduled created => Results.Created($"/api/campaigns/{created.Id}", new { id = created.Id, state = created.State }),
                    ScheduleCampaignResult.InvalidCron invalid => Results.Problem(invalid.Reason, statusCode: StatusCodes.Status400BadRequest),
                    _ => Results.Problem($"A campaign named {request.Name} exists.", statusCode: StatusCodes.Status409Conflict),
                };
            })
            .RequireAuthorization(Policies.Organize);

        app.MapGet("/api/campaigns", async (NpgsqlDataSource db, CancellationToken cancellationToken) =>
            {
                await using var connection = await db.OpenConnectionAsync(cancellationToken);
                var campaigns = await connection.QueryAsync(new CommandDefinition(
                    $"""
                    SELECT id, name, cron, time_zone AS "timeZone", target_groups AS groups, state, awaiting_reason AS "awaitingReason",
                           estimated_recipients AS "estimatedRecipients", approved_recipients AS "approvedRecipients",
                           requested_by AS "requestedBy", approved_by AS "approvedBy", rejected_by AS "rejectedBy",
                           reject_reason AS "rejectReason", last_run_at AS "lastRunAt", {CampaignVersion.Column} AS version
                    FROM campaigns ORDER BY name
                    """,
                    cancellationToken: cancellationToken));
                return Results.Ok(campaigns);
            })
            .RequireAuthorization(Policies.Watch);

        app.MapDelete("/api/campaigns/{id:long}", async (long id, NpgsqlDataSource db, IRecurringJobManager recurring, AuditLog audit,
                ClaimsPrincipal user, CancellationToken cancellationToken) =>
            {
                await using var connection = await db.OpenConnectionAsync(cancellationToken);
                var deleted = await connection.ExecuteAsync(new CommandDefinition(
                    "DELETE FROM campaigns WHERE id = @id", new { id }, cancellationToken: cancellationToken));
                recurring.RemoveIfExists(RunCampaignJob.RecurringJobId(id));
                if (deleted == 0)
                {
                    return Results.Problem($"No campaign {id}.", statusCode: StatusCodes.Status404NotFound);
                }

                await audit.RecordAsync(user.Identity!.Name!, "campaign.delete", $"campaign:{id}", null, cancellationToken);
                return Results.NoContent();
            })
            .RequireAuthorization(Policies.Organize);

        app.MapUpdateCampaign();
        app.MapApproveCampaign();
        app.MapRejectCampaign();
    }

    internal static string AwaitingMessage(int? recipients, int threshold) =>
        $"Each run of this campaign would reach {recipients} people, more than {threshold}: it does not run until another organizer " +
        "approves it (POST /api/campaigns/{id}/approve).";

    /// <summary>The checks POST and PUT share: why the request cannot be scheduled (or null), its time zone and groups.</summary>
    internal static async Task<(string? Problem, string Zone, string[] Groups)> ValidateAsync(ScheduleCampaignRequest request,
        NpgsqlDataSource db, CancellationToken cancellationToken)
    {
        var zone = request.TimeZone ?? "UTC";
        var groups = request.Groups is { Length: > 0 } ? request.Groups.Distinct().ToArray() : ["default"];
        if (string.IsNullOrWhiteSpace(request.Name) || request.Name.Length > 100)
        {
            return ("name is required (at most 100 characters).", zone, groups);
        }

        if (string.IsNullOrWhiteSpace(request.Cron))
        {
            return (CampaignSchedule.Example, zone, groups);
        }

        if (!TimeZoneInfo.TryFindSystemTimeZoneById(zone, out _))
        {
            return ("timeZone must be an IANA time zone such as \"America/New_York\".", zone, groups);
        }

        if (AlertBodies.Problem(request.Bodies) is { } problem)
        {
            return (problem, zone, groups);
        }

        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        var known = await connection.ExecuteScalarAsync<int>(new CommandDefinition(
            "SELECT count(*) FROM groups WHERE name = ANY(@groups)", new { groups }, cancellationToken: cancellationToken));
        return (known != groups.Length ? "Unknown group." : null, zone, groups);
    }
}
