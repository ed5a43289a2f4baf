using System.Security.Claims;
using System.Text.Json;
using AlertNet.Infrastructure.Auth;
using AlertNet.Infrastructure.Jobs;
using AlertNet.Privacy;
using Dapper;
using Hangfire;
using Npgsql;

namespace AlertNet.Alerts;

/// <summary>A recurring know-your-rights campaign: a cron schedule in a time zone, the groups, the text
/// per language. Hangfire's recurring job runs it; the campaigns table is the list organizers see.</summary>
public sealed record ScheduleCampaign(string Name, string Cron, string TimeZone, IReadOnlyList<string> Groups,
    IReadOnlyDictionary<string, string> Bodies, string CreatedBy) : Mediator.ICommand<ScheduleCampaignResult>;

public abstract record ScheduleCampaignResult
{
    public sealed record Scheduled(long Id) : ScheduleCampaignResult;

    public sealed record NameTaken : ScheduleCampaignResult;

    public sealed record InvalidCron(string Reason) : ScheduleCampaignResult;
}

public sealed class ScheduleCampaignHandler(NpgsqlDataSource db, IRecurringJobManager recurring, AuditLog audit)
    : Mediator.ICommandHandler<ScheduleCampaign, ScheduleCampaignResult>
{
    public async ValueTask<ScheduleCampaignResult> Handle(ScheduleCampaign command, CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var id = await connection.ExecuteScalarAsync<long?>(new CommandDefinition(
            """
            INSERT INTO campaigns (name, cron, time_zone, bodies, target_groups, created_by)
            VALUES (@Name, @Cron, @TimeZone, @bodies::jsonb, @groups, @CreatedBy)
            ON CONFLICT (name) DO NOTHING
            RETURNING id
            """,
            new { command.Name, command.Cron, command.TimeZone, bodies = JsonSerializer.Serialize(command.Bodies), groups = command.Groups.ToArray(), command.CreatedBy },
            transaction, cancellationToken: cancellationToken));
        if (id is not { } campaignId)
        {
            return new ScheduleCampaignResult.NameTaken();
        }

        try
        {
            // Hangfire parses the cron expression here; a bad one leaves nothing behind (the row rolls back).
            recurring.AddOrUpdate<RunCampaignJob>(RunCampaignJob.RecurringJobId(campaignId), Lanes.Bulk,
                job => job.RunAsync(campaignId, CancellationToken.None), command.Cron,
                new RecurringJobOptions { TimeZone = TimeZoneInfo.FindSystemTimeZoneById(command.TimeZone) });
        }
        catch (ArgumentException error)
        {
            return new ScheduleCampaignResult.InvalidCron(error.Message);
        }

        await transaction.CommitAsync(cancellationToken);
        await audit.RecordAsync(command.CreatedBy, "campaign.schedule", $"campaign:{campaignId}", new { command.Name, command.Cron, command.TimeZone }, cancellationToken);
        return new ScheduleCampaignResult.Scheduled(campaignId);
    }
}

public sealed record ScheduleCampaignRequest(string? Name, string? Cron, string? TimeZone, string[]? Groups, Dictionary<string, string>? Bodies);

public static class CampaignEndpoints
{
    public static void MapCampaigns(this IEndpointRouteBuilder app)
    {
        app.MapPost("/api/campaigns", async (ScheduleCampaignRequest request, Mediator.IMediator mediator, ClaimsPrincipal user,
                NpgsqlDataSource db, CancellationToken cancellationToken) =>
            {
                if (string.IsNullOrWhiteSpace(request.Name) || request.Name.Length > 100)
                {
                    return Results.Problem("name is required (at most 100 characters).", statusCode: StatusCodes.Status400BadRequest);
                }

                if (string.IsNullOrWhiteSpace(request.Cron))
                {
                    return Results.Problem("cron must be a cron expression such as \"0 18 * * 1\" (Mondays 18:00).", statusCode: StatusCodes.Status400BadRequest);
                }

                var zone = request.TimeZone ?? "UTC";
                if (!TimeZoneInfo.TryFindSystemTimeZoneById(zone, out _))
                {
                    return Results.Problem("timeZone must be an IANA time zone such as \"America/New_York\".", statusCode: StatusCodes.Status400BadRequest);
                }

                if (AlertBodies.Problem(request.Bodies) is { } problem)
                {
                    return Results.Problem(problem, statusCode: StatusCodes.Status400BadRequest);
                }

                var groups = request.Groups is { Length: > 0 } ? request.Groups.Distinct().ToArray() : ["default"];
                await using (var connection = await db.OpenConnectionAsync(cancellationToken))
                {
                    var known = await connection.ExecuteScalarAsync<int>(new CommandDefinition(
                        "SELECT count(*) FROM groups WHERE name = ANY(@groups)", new { groups }, cancellationToken: cancellationToken));
                    if (known != groups.Length)
                    {
                        return Results.Problem("Unknown group.", statusCode: StatusCodes.Status400BadRequest);
                    }
                }

                return await mediator.Send(new ScheduleCampaign(request.Name, request.Cron, zone, groups, request.Bodies!, user.Identity!.Name!), cancellationToken) switch
                {
                    ScheduleCampaignResult.Scheduled created => Results.Created($"/api/campaigns/{created.Id}", new { id = created.Id }),
                    ScheduleCampaignResult.InvalidCron => Results.Problem(
                        "cron must be a cron expression such as \"0 18 * * 1\" (Mondays 18:00).", statusCode: StatusCodes.Status400BadRequest),
                    _ => Results.Problem($"A campaign named {request.Name} exists.", statusCode: StatusCodes.Status409Conflict),
                };
            })
            .RequireAuthorization(Policies.Organize);

        app.MapGet("/api/campaigns", async (NpgsqlDataSource db, CancellationToken cancellationToken) =>
            {
                await using var connection = await db.OpenConnectionAsync(cancellationToken);
                var campaigns = await connection.QueryAsync(new CommandDefinition(
                    "SELECT id, name, cron, time_zone AS \"timeZone\", target_groups AS groups FROM campaigns ORDER BY name",
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
    }
}
