using AlertNet.Infrastructure.Auth;
using Dapper;
using Mediator;
using Npgsql;

namespace AlertNet.Subscribers;

public sealed record ListGroups : IQuery<IReadOnlyList<GroupSummary>>;

/// <summary>A group as staff see it: counts only, never who or which numbers. Active members are active
/// subscriptions (an SMS and a WhatsApp subscription count as two) that are not opted out.</summary>
public sealed record GroupSummary(
    long Id,
    string Name,
    IReadOnlyList<string> Keywords,
    bool DoubleOptIn,
    bool IsDefault,
    int ActiveMembers,
    int PendingMembers,
    IReadOnlyDictionary<string, int> ActiveMembersByLanguage);

public sealed class ListGroupsHandler(NpgsqlDataSource db) : IQueryHandler<ListGroups, IReadOnlyList<GroupSummary>>
{
    public async ValueTask<IReadOnlyList<GroupSummary>> Handle(ListGroups query, CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        var groups = await connection.QueryAsync<GroupRow>(new CommandDefinition(
            """
            SELECT g.id, g.name, g.double_opt_in AS doubleoptin, g.is_default AS isdefault,
                   coalesce((SELECT array_agg(k.keyword ORDER BY k.keyword) FROM group_keywords k WHERE k.group_id = g.id), '{}') AS keywords
            FROM groups g
            ORDER BY g.is_default DESC, g.name
            """,
            cancellationToken: cancellationToken));
        var counts = (await connection.QueryAsync<(long GroupId, string Status, string Language, int Count)>(new CommandDefinition(
            """
            SELECT m.group_id, m.status, s.language, count(*)::int
            FROM memberships m
            JOIN reachable_subscribers s ON s.id = m.subscriber_id
            WHERE m.status IN ('active', 'pending')
            GROUP BY m.group_id, m.status, s.language
            """,
            cancellationToken: cancellationToken))).ToLookup(c => c.GroupId);

        return groups.Select(g =>
        {
            var active = counts[g.Id].Where(c => c.Status == SubscriberStore.Active).ToList();
            return new GroupSummary(g.Id, g.Name, g.Keywords, g.DoubleOptIn, g.IsDefault,
                active.Sum(c => c.Count),
                counts[g.Id].Where(c => c.Status == SubscriberStore.Pending).Sum(c => c.Count),
                active.OrderBy(c => c.Language, StringComparer.Ordinal).ToDictionary(c => c.Language, c => c.Count));
        }).ToList();
    }

    // A class, not a positional record: Dapper reports text[] as System.Array, which no constructor matches.
    private sealed class GroupRow
    {
        public long Id { get; set; }

        public string Name { get; set; } = "";

        public bool DoubleOptIn { get; set; }

        public bool IsDefault { get; set; }

        public string[] Keywords { get; set; } = [];
    }
}

public static class ListGroupsEndpoint
{
    public static void MapListGroups(this IEndpointRouteBuilder app) =>
        app.MapGet("/api/groups", async (IMediator mediator, CancellationToken cancellationToken) =>
                Results.Ok(await mediator.Send(new ListGroups(), cancellationToken)))
            .RequireAuthorization(Policies.Watch);

    /// <summary>The groups API: POST (organizers, admins) and GET (staff) /api/groups.</summary>
    public static void MapGroups(this IEndpointRouteBuilder app)
    {
        app.MapCreateGroup();
        app.MapListGroups();
    }
}
