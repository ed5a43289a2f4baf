using System.Security.Claims;
using System.Text.Json;
using AlertNet.Infrastructure.Auth;
using Dapper;
using Npgsql;

namespace AlertNet.Alerts;

/// <summary>Large sends waiting for a second organizer, oldest first: what they say, to whom, how many people, who
/// wrote them, and whether the caller may approve them (an organizer or admin who did not create the alert).</summary>
public sealed record ListApprovals(string Viewer, bool ViewerMayApprove) : Mediator.IQuery<IReadOnlyList<AwaitingApproval>>;

public sealed record AwaitingApproval(long Id, string Type, IReadOnlyList<string> Groups, IReadOnlyDictionary<string, string> Bodies,
    int? Recipients, string CreatedBy, DateTimeOffset CreatedAt, DateTimeOffset? SendAt, DateTimeOffset? ExpiresAt, bool CanApprove,
    string? Verification = null);

public sealed class ListApprovalsHandler(NpgsqlDataSource db) : Mediator.IQueryHandler<ListApprovals, IReadOnlyList<AwaitingApproval>>
{
    public async ValueTask<IReadOnlyList<AwaitingApproval>> Handle(ListApprovals query, CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        var rows = await connection.QueryAsync<Row>(new CommandDefinition(
            """
            SELECT a.id, a.type, coalesce((SELECT array_agg(g.name ORDER BY g.name) FROM groups g WHERE g.id = ANY (a.target_groups)), '{}') AS groups,
                   a.bodies::text AS bodies, a.estimated_recipients AS recipients, a.created_by AS createdby, a.created_at AS createdat,
                   a.send_at AS sendat, a.expires_at AS expiresat, a.verification
            FROM alerts a
            WHERE a.state = 'awaiting_approval'
            ORDER BY a.created_at
            LIMIT 200
            """,
            cancellationToken: cancellationToken));
        return rows.Select(r => new AwaitingApproval(r.Id, r.Type, r.Groups, JsonSerializer.Deserialize<Dictionary<string, string>>(r.Bodies)!,
                r.Recipients, r.CreatedBy, Utc(r.CreatedAt), r.SendAt is { } s ? Utc(s) : null, r.ExpiresAt is { } e ? Utc(e) : null,
                query.ViewerMayApprove && !Actor.SamePerson(r.CreatedBy, query.Viewer), r.Verification))
            .ToList();
    }

    private static DateTimeOffset Utc(DateTime value) => new(DateTime.SpecifyKind(value, DateTimeKind.Utc));

    // A class, not a positional record: Dapper reports text[] as System.Array, which no constructor matches.
    private sealed class Row
    {
        public long Id { get; set; }

        public string Type { get; set; } = "";

        public string[] Groups { get; set; } = [];

        public string Bodies { get; set; } = "";

        public int? Recipients { get; set; }

        public string CreatedBy { get; set; } = "";

        public DateTime CreatedAt { get; set; }

        public DateTime? SendAt { get; set; }

        public DateTime? ExpiresAt { get; set; }

        public string? Verification { get; set; }
    }
}

public static class ListApprovalsEndpoint
{
    public static void MapListApprovals(this IEndpointRouteBuilder app) =>
        app.MapGet("/api/approvals", async (Mediator.IMediator mediator, ClaimsPrincipal user, CancellationToken cancellationToken) =>
                Results.Ok(await mediator.Send(
                    new ListApprovals(Actor.Of(user), user.IsInRole(Roles.Organizer) || user.IsInRole(Roles.Admin)), cancellationToken)))
            .RequireAuthorization(Policies.Watch);
}
