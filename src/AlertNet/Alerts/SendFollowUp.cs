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

/// <summary>A correction, all-clear or retraction of an alert that went out. It goes to exactly the people the original
/// was sent to (follow_up_recipients in the database: whoever joined since gets nothing, whoever left the groups since
/// still gets it), in the urgent lane. A retraction or all-clear first stops the original: its copies not yet sent are
/// cancelled, so the people who never got the alert get neither it nor the follow-up. Like any send, one that would
/// reach more than Alerts:ApprovalThreshold people waits for a second organizer (an "all clear" during a raid is as
/// dangerous from a stolen password as a false alert); the stop of the original does not wait, as a cancel does not.</summary>
public sealed record SendFollowUp(long OriginalId, string Type, IReadOnlyDictionary<string, string> Bodies, string CreatedBy)
    : Mediator.ICommand<SendFollowUpResult>;

public abstract record SendFollowUpResult
{
    public sealed record Created(long Id, string State, int Recipients) : SendFollowUpResult;

    public sealed record NotFound : SendFollowUpResult;

    /// <summary>No follow-up can reach the original's recipients; the reason says why.</summary>
    public sealed record Refused(string Reason) : SendFollowUpResult;
}

public sealed class SendFollowUpHandler(NpgsqlDataSource db, IBackgroundJobClient jobs, AuditLog audit, IOptions<AlertsOptions> options)
    : ICommandHandler<SendFollowUp, SendFollowUpResult>
{
    public async ValueTask<SendFollowUpResult> Handle(SendFollowUp command, CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        // Locked: the original's fan-out (DispatchAlertJob) and a cancel take the same lock, so the follow-up sees the
        // original either before its fan-out (refused) or after it, never half way.
        var original = await connection.QuerySingleOrDefaultAsync<(string State, long[] Groups, bool FannedOut, bool PastRetention, bool Purged)?>(
            new CommandDefinition(
                """
                SELECT a.state, a.target_groups, a.fanned_out_at IS NOT NULL, a.personal_data_removed_at IS NOT NULL,
                       coalesce(a.recipients, 0) > 0
                       AND NOT EXISTS (SELECT 1 FROM deliveries d JOIN subscribers s ON s.id = d.subscriber_id WHERE d.alert_id = a.id)
                FROM alerts a WHERE a.id = @OriginalId FOR UPDATE
                """,
                new { command.OriginalId }, transaction, cancellationToken: cancellationToken));
        if (original is not { } found)
        {
            return new SendFollowUpResult.NotFound();
        }

        if (found.PastRetention)
        {
            return new SendFollowUpResult.Refused(
                $"Alert {command.OriginalId} is past retention: who it reached is no longer kept, so a follow-up cannot find them.");
        }

        if (found.Purged)
        {
            return new SendFollowUpResult.Refused(
                $"Nobody alert {command.OriginalId} reached is on the list any more (the emergency purge removed them, or they left).");
        }

        if (!found.FannedOut)
        {
            return new SendFollowUpResult.Refused(found.State is AlertStates.Rejected or AlertStates.Cancelled
                ? $"Alert {command.OriginalId} was never sent to anyone: there is nobody to follow up."
                : $"Alert {command.OriginalId} has not been sent to anyone yet: cancel it (POST /api/alerts/{command.OriginalId}/cancel) instead.");
        }

        if (AlertType.StopsOriginal(command.Type))
        {
            await CancelAlertHandler.StopAsync(connection, transaction, command.OriginalId, command.CreatedBy, cancellationToken);
        }

        var recipients = await connection.ExecuteScalarAsync<int>(new CommandDefinition(
            "SELECT count(DISTINCT phone_index)::int FROM follow_up_recipients(@OriginalId)", new { command.OriginalId }, transaction,
            cancellationToken: cancellationToken));
        var threshold = options.Value.ApprovalThreshold;
        var needsApproval = threshold > 0 && recipients > threshold;
        var state = needsApproval ? AlertStates.AwaitingApproval : AlertStates.Queued;
        var id = await connection.ExecuteScalarAsync<long>(new CommandDefinition(
            """
            INSERT INTO alerts (type, bodies, target_groups, created_by, state, estimated_recipients, follow_up_of)
            VALUES (@type, @bodies::jsonb, @groups, @createdBy, @state, @recipients, @originalId)
            RETURNING id
            """,
            new
            {
                type = command.Type,
                bodies = JsonSerializer.Serialize(command.Bodies),
                groups = found.Groups,
                createdBy = command.CreatedBy,
                state,
                recipients = needsApproval ? recipients : (int?)null,
                originalId = command.OriginalId,
            },
            transaction, cancellationToken: cancellationToken));
        await transaction.CommitAsync(cancellationToken);
        await audit.RecordAsync(command.CreatedBy, "alert.follow_up", $"alert:{id}",
            new { command.Type, followUpOf = command.OriginalId, languages = command.Bodies.Keys, awaitingApproval = needsApproval, recipients },
            cancellationToken);
        if (!needsApproval)
        {
            AlertDispatch.Queue(jobs, id, command.Type, sendAt: null);
        }

        return new SendFollowUpResult.Created(id, state, recipients);
    }
}

public sealed record SendFollowUpRequest(string? Type, Dictionary<string, string>? Bodies);

public static class SendFollowUpEndpoint
{
    public static void MapSendFollowUp(this IEndpointRouteBuilder app) =>
        app.MapPost("/api/alerts/{id:long}/follow-ups", async (long id, SendFollowUpRequest request, IMediator mediator, ClaimsPrincipal user,
                CancellationToken cancellationToken) =>
            {
                if (Validate(request) is { } problem)
                {
                    return Results.Problem(problem, statusCode: StatusCodes.Status400BadRequest);
                }

                return await mediator.Send(new SendFollowUp(id, request.Type!, request.Bodies!, Actor.Of(user)), cancellationToken) switch
                {
                    SendFollowUpResult.Created created => Results.Created($"/api/alerts/{created.Id}", new
                    {
                        id = created.Id,
                        state = created.State,
                        recipients = created.Recipients,
                        followUpOf = id,
                    }),
                    SendFollowUpResult.NotFound => Results.Problem($"No alert {id}.", statusCode: StatusCodes.Status404NotFound),
                    SendFollowUpResult.Refused refused => Results.Problem(refused.Reason, statusCode: StatusCodes.Status409Conflict),
                    _ => throw new InvalidOperationException("Unexpected result."),
                };
            })
            .RequireAuthorization(Policies.Organize);

    /// <summary>Why the request cannot be sent, or null; the alert page checks its form with the same rules.</summary>
    internal static string? Validate(SendFollowUpRequest request) =>
        request.Type is null || !AlertType.FollowUps.Contains(request.Type)
            ? $"type must be one of: {string.Join(", ", AlertType.FollowUps)}."
            : AlertBodies.Problem(request.Bodies);
}
