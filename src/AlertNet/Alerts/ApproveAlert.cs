using System.Security.Claims;
using AlertNet.Infrastructure.Auth;
using AlertNet.Privacy;
using Dapper;
using Hangfire;
using Npgsql;

namespace AlertNet.Alerts;

/// <summary>A second organizer lets a large send go: the alert moves from awaiting_approval to queued and is
/// dispatched exactly as Send dispatches it (at its sendAt, if that is still ahead). Nobody approves their own
/// alert (see <see cref="Actor.SamePerson"/>).</summary>
public sealed record ApproveAlert(long Id, string ApprovedBy) : Mediator.ICommand<ApproveAlertResult>;

public abstract record ApproveAlertResult
{
    public sealed record Approved(string State) : ApproveAlertResult;

    public sealed record NotFound : ApproveAlertResult;

    public sealed record OwnAlert : ApproveAlertResult;

    public sealed record NotAwaiting(string State) : ApproveAlertResult;

    public sealed record Expired : ApproveAlertResult;
}

public sealed class ApproveAlertHandler(NpgsqlDataSource db, IBackgroundJobClient jobs, AuditLog audit)
    : Mediator.ICommandHandler<ApproveAlert, ApproveAlertResult>
{
    public async ValueTask<ApproveAlertResult> Handle(ApproveAlert command, CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        // FOR UPDATE: two organizers approving at once, or an approval racing a cancel, settle one after the other.
        var alert = await connection.QuerySingleOrDefaultAsync<(string State, string Type, string CreatedBy, DateTime? SendAt, bool Expired)?>(
            new CommandDefinition(
                "SELECT state, type, created_by, send_at, coalesce(expires_at <= now(), false) FROM alerts WHERE id = @Id FOR UPDATE",
                command, transaction, cancellationToken: cancellationToken));
        if (alert is not { } found)
        {
            return new ApproveAlertResult.NotFound();
        }

        if (found.State != AlertStates.AwaitingApproval)
        {
            return new ApproveAlertResult.NotAwaiting(found.State);
        }

        if (Actor.SamePerson(found.CreatedBy, command.ApprovedBy))
        {
            await audit.RecordAsync(command.ApprovedBy, "alert.approve-refused", $"alert:{command.Id}", new { reason = "own alert" },
                cancellationToken);
            return new ApproveAlertResult.OwnAlert();
        }

        if (found.Expired)
        {
            return new ApproveAlertResult.Expired();
        }

        await connection.ExecuteAsync(new CommandDefinition(
            "UPDATE alerts SET state = 'queued', approved_by = @ApprovedBy, approved_at = now() WHERE id = @Id",
            command, transaction, cancellationToken: cancellationToken));
        await transaction.CommitAsync(cancellationToken);
        await audit.RecordAsync(command.ApprovedBy, "alert.approve", $"alert:{command.Id}", new { createdBy = found.CreatedBy },
            CancellationToken.None);
        // After the commit, so a dispatch job never finds the alert still awaiting approval; if this process dies
        // first, the sweeper finds the alert queued and dispatches it.
        AlertDispatch.Queue(jobs, command.Id, found.Type,
            found.SendAt is { } sendAt ? new DateTimeOffset(DateTime.SpecifyKind(sendAt, DateTimeKind.Utc)) : null);
        return new ApproveAlertResult.Approved(AlertStates.Queued);
    }
}

public static class ApproveAlertEndpoint
{
    public static void MapApproveAlert(this IEndpointRouteBuilder app) =>
        app.MapPost("/api/alerts/{id:long}/approve", async (long id, Mediator.IMediator mediator, ClaimsPrincipal user,
                CancellationToken cancellationToken) =>
                await mediator.Send(new ApproveAlert(id, Actor.Of(user)), cancellationToken) switch
                {
                    ApproveAlertResult.Approved approved => Results.Ok(new { id, state = approved.State }),
                    ApproveAlertResult.NotFound => Results.Problem($"No alert {id}.", statusCode: StatusCodes.Status404NotFound),
                    ApproveAlertResult.OwnAlert => Results.Problem(
                        "You created this alert: another organizer must approve it.", statusCode: StatusCodes.Status403Forbidden),
                    ApproveAlertResult.Expired => Results.Problem(
                        "The alert expired while it waited for approval; compose it again if it still matters.",
                        statusCode: StatusCodes.Status409Conflict),
                    ApproveAlertResult.NotAwaiting notAwaiting => Results.Problem(
                        $"The alert is not awaiting approval (it is {notAwaiting.State}).", statusCode: StatusCodes.Status409Conflict),
                    _ => throw new InvalidOperationException("Unexpected result."),
                })
            .RequireAuthorization(Policies.Organize);
}
