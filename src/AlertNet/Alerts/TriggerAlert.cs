using System.Security.Claims;
using System.Text.Json;
using AlertNet.Delivery;
using AlertNet.Infrastructure.Auth;
using AlertNet.Privacy;
using Dapper;
using Hangfire;
using Mediator;
using Npgsql;

namespace AlertNet.Alerts;

/// <summary>An organizer's Send: saves the alert, then queues its dispatch in the alert's lane.</summary>
public sealed record TriggerAlert(string Type, IReadOnlyList<string> Groups, IReadOnlyDictionary<string, string> Bodies,
    DateTimeOffset? SendAt, DateTimeOffset? ExpiresAt, string CreatedBy) : Mediator.ICommand<TriggerAlertResult>;

public abstract record TriggerAlertResult
{
    public sealed record Created(long Id) : TriggerAlertResult;

    public sealed record UnknownGroups(IReadOnlyList<string> Names) : TriggerAlertResult;
}

public sealed class TriggerAlertHandler(NpgsqlDataSource db, IBackgroundJobClient jobs, AuditLog audit)
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

        var id = await connection.ExecuteScalarAsync<long>(new CommandDefinition(
            """
            INSERT INTO alerts (type, bodies, target_groups, created_by, send_at, expires_at)
            VALUES (@type, @bodies::jsonb, @groupIds, @createdBy, @sendAt, @expiresAt)
            RETURNING id
            """,
            new
            {
                type = command.Type,
                bodies = JsonSerializer.Serialize(command.Bodies),
                groupIds = groups.Select(g => g.Id).ToArray(),
                createdBy = command.CreatedBy,
                sendAt = command.SendAt,
                expiresAt = command.ExpiresAt,
            },
            cancellationToken: cancellationToken));
        await audit.RecordAsync(command.CreatedBy, "alert.trigger", $"alert:{id}",
            new { command.Type, command.Groups, languages = command.Bodies.Keys }, cancellationToken);

        // If this process dies between the INSERT and the enqueue, the sweeper finds the alert still
        // queued and dispatches it.
        var lane = AlertType.Lane(command.Type);
        if (command.SendAt is { } sendAt && sendAt > DateTimeOffset.UtcNow)
        {
            jobs.Schedule<DispatchAlertJob>(lane, job => job.RunAsync(id, CancellationToken.None), sendAt);
        }
        else
        {
            jobs.Enqueue<DispatchAlertJob>(lane, job => job.RunAsync(id, CancellationToken.None));
        }

        return new TriggerAlertResult.Created(id);
    }
}

public sealed record TriggerAlertRequest(string? Type, string[]? Groups, Dictionary<string, string>? Bodies, int? ExpiresInMinutes,
    DateTimeOffset? SendAt);

public static class TriggerAlertEndpoint
{
    public static void MapTriggerAlert(this IEndpointRouteBuilder app) =>
        app.MapPost("/api/alerts", async (TriggerAlertRequest request, IMediator mediator, ClaimsPrincipal user,
                CancellationToken cancellationToken) =>
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
                    new TriggerAlert(request.Type!, groups, request.Bodies!, request.SendAt, expiresAt, user.Identity!.Name!), cancellationToken);
                return result switch
                {
                    TriggerAlertResult.Created created => Results.Created($"/api/alerts/{created.Id}", new { id = created.Id, state = "queued" }),
                    TriggerAlertResult.UnknownGroups unknown => Results.Problem(
                        $"Unknown group(s): {string.Join(", ", unknown.Names)}.", statusCode: StatusCodes.Status400BadRequest),
                    _ => throw new InvalidOperationException("Unexpected result."),
                };
            })
            .RequireAuthorization(Policies.Organize);

    private static string? Validate(TriggerAlertRequest request)
    {
        if (request.Type is null || !AlertType.All.Contains(request.Type))
        {
            return $"type must be one of: {string.Join(", ", AlertType.All)}.";
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

        return request.ExpiresInMinutes is <= 0 or > 10080 ? "expiresInMinutes must be between 1 and 10080." : null;
    }
}
