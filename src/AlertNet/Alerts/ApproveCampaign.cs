using System.Security.Claims;
using AlertNet.Infrastructure.Auth;
using AlertNet.Privacy;
using Dapper;
using Npgsql;

namespace AlertNet.Alerts;

/// <summary>A second organizer lets a recurring campaign run: awaiting_approval → active, for the people counted when
/// it was created, changed or held (runs may then reach up to 10 % more). The organizer who created or last changed it
/// cannot approve it (<see cref="Actor.SamePerson"/>), as with alerts. A run held for approval is not made up: the next
/// scheduled run sends. With <paramref name="Version"/> (what the approver read, <see cref="CampaignVersion"/>), a
/// campaign changed since then is not approved: the approver must look at it again.</summary>
public sealed record ApproveCampaign(long Id, string ApprovedBy, string? Version = null) : Mediator.ICommand<ApproveCampaignResult>;

public abstract record ApproveCampaignResult
{
    public sealed record Approved(int? Recipients) : ApproveCampaignResult;

    public sealed record NotFound : ApproveCampaignResult;

    public sealed record OwnCampaign : ApproveCampaignResult;

    public sealed record NotAwaiting(string State) : ApproveCampaignResult;

    public sealed record Changed : ApproveCampaignResult;
}

public sealed class ApproveCampaignHandler(NpgsqlDataSource db, AuditLog audit) : Mediator.ICommandHandler<ApproveCampaign, ApproveCampaignResult>
{
    public async ValueTask<ApproveCampaignResult> Handle(ApproveCampaign command, CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        // FOR UPDATE: two approvals, or an approval racing a change, settle one after the other; an approval that waited
        // for a change sees the changed campaign (awaiting again, with its own requester).
        var campaign = await connection.QuerySingleOrDefaultAsync<(string State, string RequestedBy, int? Recipients, string Version)?>(
            new CommandDefinition(
                $"SELECT state, requested_by, estimated_recipients, {CampaignVersion.Column} FROM campaigns WHERE id = @Id FOR UPDATE", command,
                transaction, cancellationToken: cancellationToken));
        if (campaign is not { } found)
        {
            return new ApproveCampaignResult.NotFound();
        }

        if (found.State != CampaignStates.AwaitingApproval)
        {
            return new ApproveCampaignResult.NotAwaiting(found.State);
        }

        if (command.Version is not null && command.Version != found.Version)
        {
            return new ApproveCampaignResult.Changed();
        }

        if (Actor.SamePerson(found.RequestedBy, command.ApprovedBy))
        {
            await audit.RecordAsync(command.ApprovedBy, "campaign.approve-refused", $"campaign:{command.Id}", new { reason = "own campaign" },
                cancellationToken);
            return new ApproveCampaignResult.OwnCampaign();
        }

        await connection.ExecuteAsync(new CommandDefinition(
            """
            UPDATE campaigns SET state = 'active', awaiting_reason = NULL, approved_recipients = estimated_recipients,
                   approved_by = @ApprovedBy, approved_at = now()
            WHERE id = @Id
            """,
            command, transaction, cancellationToken: cancellationToken));
        await transaction.CommitAsync(cancellationToken);
        await audit.RecordAsync(command.ApprovedBy, "campaign.approve", $"campaign:{command.Id}",
            new { requestedBy = found.RequestedBy, recipients = found.Recipients }, CancellationToken.None);
        return new ApproveCampaignResult.Approved(found.Recipients);
    }
}

public static class ApproveCampaignEndpoint
{
    public static void MapApproveCampaign(this IEndpointRouteBuilder app) =>
        app.MapPost("/api/campaigns/{id:long}/approve", async (long id, ApproveCampaignRequest? request, Mediator.IMediator mediator,
                ClaimsPrincipal user, CancellationToken cancellationToken) =>
                await mediator.Send(new ApproveCampaign(id, Actor.Of(user), request?.Version), cancellationToken) switch
                {
                    ApproveCampaignResult.Approved approved => Results.Ok(new { id, state = CampaignStates.Active, approvedRecipients = approved.Recipients }),
                    ApproveCampaignResult.NotFound => Results.Problem($"No campaign {id}.", statusCode: StatusCodes.Status404NotFound),
                    ApproveCampaignResult.OwnCampaign => Results.Problem(
                        "You created or last changed this campaign: another organizer must approve it.", statusCode: StatusCodes.Status403Forbidden),
                    ApproveCampaignResult.NotAwaiting notAwaiting => Results.Problem(
                        $"The campaign is not awaiting approval (it is {notAwaiting.State}).", statusCode: StatusCodes.Status409Conflict),
                    ApproveCampaignResult.Changed => Results.Problem(
                        "The campaign changed after you read it (version differs): read it again before approving.",
                        statusCode: StatusCodes.Status409Conflict),
                    _ => throw new InvalidOperationException("Unexpected result."),
                })
            .RequireAuthorization(Policies.Organize);
}

/// <summary>Optional body of an approval: the campaign's <c>version</c> from GET /api/campaigns, to approve only what was read.</summary>
public sealed record ApproveCampaignRequest(string? Version);
