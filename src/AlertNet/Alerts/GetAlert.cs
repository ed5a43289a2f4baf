using System.Text.Json;
using AlertNet.Delivery;
using AlertNet.Infrastructure.Auth;
using Dapper;
using Mediator;
using Npgsql;

namespace AlertNet.Alerts;

public sealed record GetAlert(long Id) : IQuery<AlertView?>;

/// <summary>An alert with its delivery counts keyed by every delivery state (zeros included), so a
/// dashboard can tell "nothing failed" from "not counted".</summary>
public sealed record AlertView(
    long Id,
    string Type,
    string State,
    int Recipients,
    IReadOnlyDictionary<string, int> Counts,
    IReadOnlyDictionary<string, string> Bodies,
    DateTimeOffset CreatedAt,
    DateTimeOffset? ExpiresAt,
    DateTimeOffset? FinishedAt);

public sealed class GetAlertHandler(NpgsqlDataSource db) : IQueryHandler<GetAlert, AlertView?>
{
    public async ValueTask<AlertView?> Handle(GetAlert query, CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        var alert = await connection.QuerySingleOrDefaultAsync<AlertRow>(new CommandDefinition(
            """
            SELECT id, type, state, coalesce(recipients, 0) AS recipients, bodies::text AS bodies,
                   created_at AS createdat, expires_at AS expiresat, finished_at AS finishedat
            FROM alerts WHERE id = @id
            """,
            new { id = query.Id }, cancellationToken: cancellationToken));
        if (alert is null)
        {
            return null;
        }

        var counts = DeliveryState.All.ToDictionary(state => state, _ => 0);
        foreach (var (state, count) in await connection.QueryAsync<(string, int)>(new CommandDefinition(
                     "SELECT state, count(*)::int FROM deliveries WHERE alert_id = @id GROUP BY state",
                     new { id = query.Id }, cancellationToken: cancellationToken)))
        {
            counts[state] = count;
        }

        return new AlertView(alert.Id, alert.Type, alert.State, alert.Recipients, counts,
            JsonSerializer.Deserialize<Dictionary<string, string>>(alert.Bodies)!,
            alert.CreatedAt, alert.ExpiresAt, alert.FinishedAt);
    }

    private sealed record AlertRow(long Id, string Type, string State, int Recipients, string Bodies,
        DateTime CreatedAt, DateTime? ExpiresAt, DateTime? FinishedAt);
}

public static class GetAlertEndpoint
{
    public static void MapGetAlert(this IEndpointRouteBuilder app) =>
        app.MapGet("/api/alerts/{id:long}", async (long id, IMediator mediator, CancellationToken cancellationToken) =>
                await mediator.Send(new GetAlert(id), cancellationToken) is { } alert
                    ? Results.Ok(alert)
                    : Results.Problem($"No alert {id}.", statusCode: StatusCodes.Status404NotFound))
            .RequireAuthorization(Policies.Watch);
}
