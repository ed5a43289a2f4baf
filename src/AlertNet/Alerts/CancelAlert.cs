using System.Security.Claims;
using AlertNet.Infrastructure.Auth;
using AlertNet.Privacy;
using Dapper;
using Npgsql;

namespace AlertNet.Alerts;

/// <summary>Stops an alert: nothing more goes out within a second (batches in flight watch the alert's
/// state); messages Twilio already accepted cannot be called back and keep their state.</summary>
public sealed record CancelAlert(long Id, string CancelledBy) : Mediator.ICommand<CancelAlertResult>;

public enum CancelAlertResult
{
    Cancelled,
    NotFound,
    AlreadyFinished,
}

public sealed class CancelAlertHandler(NpgsqlDataSource db, AuditLog audit) : Mediator.ICommandHandler<CancelAlert, CancelAlertResult>
{
    public async ValueTask<CancelAlertResult> Handle(CancelAlert command, CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var state = await connection.ExecuteScalarAsync<string?>(new CommandDefinition(
            "SELECT state FROM alerts WHERE id = @Id FOR UPDATE", command, transaction, cancellationToken: cancellationToken));
        if (state is null)
        {
            return CancelAlertResult.NotFound;
        }

        // An alert awaiting approval can be withdrawn by its creator or anyone else who may send alerts.
        if (state is not (AlertStates.AwaitingApproval or AlertStates.Queued or AlertStates.Sending))
        {
            return CancelAlertResult.AlreadyFinished;
        }

        await StopAsync(connection, transaction, command.Id, command.CancelledBy, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        await audit.RecordAsync(command.CancelledBy, "alert.cancel", $"alert:{command.Id}", null, cancellationToken);
        return CancelAlertResult.Cancelled;
    }

    /// <summary>Marks an unfinished alert cancelled and its copies not yet claimed as cancelled too, in the caller's
    /// transaction (the alert row locked). Batches sending in any process see the state and stop; what they release
    /// unsent is cancelled as well. A retraction or all-clear (SendFollowUp) stops its original this way.</summary>
    internal static Task StopAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, long alertId, string cancelledBy,
        CancellationToken cancellationToken) =>
        connection.ExecuteAsync(new CommandDefinition(
            """
            UPDATE alerts SET state = 'cancelled', cancelled_at = now(), cancelled_by = @cancelledBy, finished_at = now()
            WHERE id = @alertId AND state IN ('awaiting_approval', 'queued', 'sending');
            UPDATE deliveries SET state = 'cancelled', claimed_until = NULL, updated_at = now(), completed_at = now()
            WHERE alert_id = @alertId AND state = 'pending';
            """,
            new { alertId, cancelledBy }, transaction, cancellationToken: cancellationToken));
}

public static class CancelAlertEndpoint
{
    public static void MapCancelAlert(this IEndpointRouteBuilder app) =>
        app.MapPost("/api/alerts/{id:long}/cancel", async (long id, Mediator.IMediator mediator, ClaimsPrincipal user,
                CancellationToken cancellationToken) =>
                await mediator.Send(new CancelAlert(id, Actor.Of(user)), cancellationToken) switch
                {
                    CancelAlertResult.Cancelled => Results.Ok(new { id, state = "cancelled" }),
                    CancelAlertResult.NotFound => Results.Problem($"No alert {id}.", statusCode: StatusCodes.Status404NotFound),
                    _ => Results.Problem("The alert has already finished or been cancelled.", statusCode: StatusCodes.Status409Conflict),
                })
            .RequireAuthorization(Policies.Organize);
}
