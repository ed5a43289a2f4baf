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

/// <summary>An organizer changes a campaign (name, schedule, groups, texts). Any change to a campaign whose runs would
/// reach more than Alerts:ApprovalThreshold people needs a second organizer again, whoever approved it before:
/// otherwise a small approved campaign could be turned into a large one, or its text into another, by one person.</summary>
public sealed record UpdateCampaign(long Id, string Name, string Cron, string TimeZone, IReadOnlyList<string> Groups,
    IReadOnlyDictionary<string, string> Bodies, string UpdatedBy) : Mediator.ICommand<UpdateCampaignResult>;

public abstract record UpdateCampaignResult
{
    public sealed record Updated(string State, int? Recipients) : UpdateCampaignResult
    {
        public bool AwaitingApproval => State == CampaignStates.AwaitingApproval;
    }

    public sealed record NotFound : UpdateCampaignResult;

    public sealed record NameTaken : UpdateCampaignResult;

    public sealed record InvalidCron(string Reason) : UpdateCampaignResult;
}

public sealed class UpdateCampaignHandler(NpgsqlDataSource db, IRecurringJobManager recurring, AuditLog audit, IOptions<AlertsOptions> options)
    : Mediator.ICommandHandler<UpdateCampaign, UpdateCampaignResult>
{
    public async ValueTask<UpdateCampaignResult> Handle(UpdateCampaign command, CancellationToken cancellationToken)
    {
        var zone = TimeZoneInfo.FindSystemTimeZoneById(command.TimeZone);
        if (CampaignSchedule.Problem(command.Cron, zone, options.Value.CampaignMinimumInterval, DateTimeOffset.UtcNow) is { } problem)
        {
            return new UpdateCampaignResult.InvalidCron(problem);
        }

        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        // FOR UPDATE: a change racing an approval or a run settles one after the other.
        if (await connection.ExecuteScalarAsync<long?>(new CommandDefinition(
                "SELECT id FROM campaigns WHERE id = @Id FOR UPDATE", command, transaction, cancellationToken: cancellationToken)) is null)
        {
            return new UpdateCampaignResult.NotFound();
        }

        if (await connection.ExecuteScalarAsync<bool>(new CommandDefinition(
                "SELECT EXISTS (SELECT 1 FROM campaigns WHERE name = @Name AND id <> @Id)", command, transaction,
                cancellationToken: cancellationToken)))
        {
            return new UpdateCampaignResult.NameTaken();
        }

        var (state, recipients) = await CampaignApproval.StateForAsync(connection, transaction, command.Groups, options.Value, cancellationToken);
        await connection.ExecuteAsync(new CommandDefinition(
            """
            UPDATE campaigns SET name = @Name, cron = @Cron, time_zone = @TimeZone, bodies = @bodies::jsonb, target_groups = @groups,
                   requested_by = @UpdatedBy, updated_at = now(), state = @state,
                   awaiting_reason = CASE WHEN @state = 'awaiting_approval' THEN 'changed' END, estimated_recipients = @recipients,
                   approved_recipients = NULL, approved_by = NULL, approved_at = NULL, rejected_by = NULL, rejected_at = NULL, reject_reason = NULL
            WHERE id = @Id
            """,
            new
            {
                command.Id, command.Name, command.Cron, command.TimeZone, bodies = JsonSerializer.Serialize(command.Bodies),
                groups = command.Groups.ToArray(), command.UpdatedBy, state, recipients,
            },
            transaction, cancellationToken: cancellationToken));
        try
        {
            recurring.AddOrUpdate<RunCampaignJob>(RunCampaignJob.RecurringJobId(command.Id), Lanes.Bulk,
                job => job.RunAsync(command.Id, CancellationToken.None), command.Cron, new RecurringJobOptions { TimeZone = zone });
        }
        catch (ArgumentException)
        {
            return new UpdateCampaignResult.InvalidCron(CampaignSchedule.Example);
        }

        await transaction.CommitAsync(cancellationToken);
        await audit.RecordAsync(command.UpdatedBy, "campaign.update", $"campaign:{command.Id}",
            new { command.Name, command.Cron, command.TimeZone, command.Groups, awaitingApproval = state == CampaignStates.AwaitingApproval, recipients },
            cancellationToken);
        return new UpdateCampaignResult.Updated(state, state == CampaignStates.AwaitingApproval ? recipients : null);
    }
}

public static class UpdateCampaignEndpoint
{
    public static void MapUpdateCampaign(this IEndpointRouteBuilder app) =>
        app.MapPut("/api/campaigns/{id:long}", async (long id, ScheduleCampaignRequest request, Mediator.IMediator mediator, ClaimsPrincipal user,
                NpgsqlDataSource db, IOptions<AlertsOptions> options, CancellationToken cancellationToken) =>
            {
                var (problem, zone, groups) = await CampaignEndpoints.ValidateAsync(request, db, cancellationToken);
                if (problem is not null)
                {
                    return Results.Problem(problem, statusCode: StatusCodes.Status400BadRequest);
                }

                return await mediator.Send(new UpdateCampaign(id, request.Name!, request.Cron!.Trim(), zone, groups, request.Bodies!, Actor.Of(user)),
                        cancellationToken) switch
                {
                    UpdateCampaignResult.Updated { AwaitingApproval: true } updated => Results.Ok(new
                    {
                        id,
                        state = updated.State,
                        recipients = updated.Recipients,
                        message = CampaignEndpoints.AwaitingMessage(updated.Recipients, options.Value.ApprovalThreshold),
                    }),
                    UpdateCampaignResult.Updated updated => Results.Ok(new { id, state = updated.State }),
                    UpdateCampaignResult.NotFound => Results.Problem($"No campaign {id}.", statusCode: StatusCodes.Status404NotFound),
                    UpdateCampaignResult.InvalidCron invalid => Results.Problem(invalid.Reason, statusCode: StatusCodes.Status400BadRequest),
                    _ => Results.Problem($"A campaign named {request.Name} exists.", statusCode: StatusCodes.Status409Conflict),
                };
            })
            .RequireAuthorization(Policies.Organize);
}
