using System.Security.Claims;
using AlertNet.Infrastructure.Auth;
using AlertNet.Privacy;
using Dapper;
using Npgsql;

namespace AlertNet.Alerts;

/// <summary>An organizer turns down a campaign awaiting approval, optionally saying why: it stays listed, rejected, and
/// never runs until it is changed (PUT, which asks for approval again) or deleted.</summary>
public sealed record RejectCampaign(long Id, string RejectedBy, string? Reason) : Mediator.ICommand<RejectCampaignResult>;

public enum RejectCampaignResult
{
    Rejected,
    NotFound,
    NotAwaiting,
}

public sealed class RejectCampaignHandler(NpgsqlDataSource db, AuditLog audit) : Mediator.ICommandHandler<RejectCampaign, RejectCampaignResult>
{
    public async ValueTask<RejectCampaignResult> Handle(RejectCampaign command, CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        // The state guard settles a concurrent approval and rejection one way: whichever writes first wins.
        var rejected = await connection.ExecuteAsync(new CommandDefinition(
            """
            UPDATE campaigns SET state = 'rejected', rejected_by = @RejectedBy, rejected_at = now(), reject_reason = @Reason
            WHERE id = @Id AND state = 'awaiting_approval'
            """,
            command, cancellationToken: cancellationToken));
        if (rejected == 1)
        {
            await audit.RecordAsync(command.RejectedBy, "campaign.reject", $"campaign:{command.Id}", new { reason = command.Reason },
                CancellationToken.None);
            return RejectCampaignResult.Rejected;
        }

        return await connection.ExecuteScalarAsync<bool>(new CommandDefinition(
            "SELECT EXISTS (SELECT 1 FROM campaigns WHERE id = @Id)", command, cancellationToken: cancellationToken))
            ? RejectCampaignResult.NotAwaiting
            : RejectCampaignResult.NotFound;
    }
}

public static class RejectCampaignEndpoint
{
    public static void MapRejectCampaign(this IEndpointRouteBuilder app) =>
        app.MapPost("/api/campaigns/{id:long}/reject", async (long id, RejectAlertRequest? request, Mediator.IMediator mediator,
                ClaimsPrincipal user, CancellationToken cancellationToken) =>
            {
                var reason = string.IsNullOrWhiteSpace(request?.Reason) ? null : request.Reason.Trim();
                if (reason is { Length: > RejectAlertEndpoint.MaxReasonLength })
                {
                    return Results.Problem($"reason is at most {RejectAlertEndpoint.MaxReasonLength} characters.",
                        statusCode: StatusCodes.Status400BadRequest);
                }

                return await mediator.Send(new RejectCampaign(id, Actor.Of(user), reason), cancellationToken) switch
                {
                    RejectCampaignResult.Rejected => Results.Ok(new { id, state = CampaignStates.Rejected }),
                    RejectCampaignResult.NotFound => Results.Problem($"No campaign {id}.", statusCode: StatusCodes.Status404NotFound),
                    _ => Results.Problem("The campaign is not awaiting approval.", statusCode: StatusCodes.Status409Conflict),
                };
            })
            .RequireAuthorization(Policies.Organize);
}
