using System.Security.Claims;
using AlertNet.Infrastructure.Auth;
using AlertNet.Privacy;
using Dapper;
using Npgsql;

namespace AlertNet.Alerts;

/// <summary>An organizer turns down a large send awaiting approval, optionally saying why; nothing is sent.
/// (Its creator may also withdraw it with cancel.)</summary>
public sealed record RejectAlert(long Id, string RejectedBy, string? Reason) : Mediator.ICommand<RejectAlertResult>;

public enum RejectAlertResult
{
    Rejected,
    NotFound,
    NotAwaiting,
}

public sealed class RejectAlertHandler(NpgsqlDataSource db, AuditLog audit) : Mediator.ICommandHandler<RejectAlert, RejectAlertResult>
{
    public async ValueTask<RejectAlertResult> Handle(RejectAlert command, CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        // The state guard makes a concurrent approval and rejection settle one way: whichever writes first wins.
        var rejected = await connection.ExecuteAsync(new CommandDefinition(
            """
            UPDATE alerts SET state = 'rejected', rejected_by = @RejectedBy, rejected_at = now(), reject_reason = @Reason, finished_at = now()
            WHERE id = @Id AND state = 'awaiting_approval'
            """,
            command, cancellationToken: cancellationToken));
        var state = rejected == 1
            ? AlertStates.Rejected
            : await connection.ExecuteScalarAsync<string?>(new CommandDefinition(
                "SELECT state FROM alerts WHERE id = @Id", command, cancellationToken: cancellationToken));
        switch (state)
        {
            case null:
                return RejectAlertResult.NotFound;
            case AlertStates.Rejected:
                await audit.RecordAsync(command.RejectedBy, "alert.reject", $"alert:{command.Id}", new { reason = command.Reason },
                    CancellationToken.None);
                return RejectAlertResult.Rejected;
            default:
                return RejectAlertResult.NotAwaiting;
        }
    }
}

public sealed record RejectAlertRequest(string? Reason);

public static class RejectAlertEndpoint
{
    public const int MaxReasonLength = 500;

    /// <summary>A reason typed into a page's form: trimmed, empty as none, cut to <see cref="MaxReasonLength"/> (the form's
    /// maxlength already keeps it shorter; the API answers 400 instead).</summary>
    public static string? FormReason(string? reason)
    {
        var trimmed = string.IsNullOrWhiteSpace(reason) ? null : reason.Trim();
        return trimmed is { Length: > MaxReasonLength } ? trimmed[..MaxReasonLength] : trimmed;
    }

    public static void MapRejectAlert(this IEndpointRouteBuilder app) =>
        app.MapPost("/api/alerts/{id:long}/reject", async (long id, RejectAlertRequest? request, Mediator.IMediator mediator,
                ClaimsPrincipal user, CancellationToken cancellationToken) =>
            {
                var reason = string.IsNullOrWhiteSpace(request?.Reason) ? null : request.Reason.Trim();
                if (reason is { Length: > MaxReasonLength })
                {
                    return Results.Problem($"reason is at most {MaxReasonLength} characters.", statusCode: StatusCodes.Status400BadRequest);
                }

                return await mediator.Send(new RejectAlert(id, Actor.Of(user), reason), cancellationToken) switch
                {
                    RejectAlertResult.Rejected => Results.Ok(new { id, state = AlertStates.Rejected }),
                    RejectAlertResult.NotFound => Results.Problem($"No alert {id}.", statusCode: StatusCodes.Status404NotFound),
                    _ => Results.Problem("The alert is not awaiting approval.", statusCode: StatusCodes.Status409Conflict),
                };
            })
            .RequireAuthorization(Policies.Organize);
}
