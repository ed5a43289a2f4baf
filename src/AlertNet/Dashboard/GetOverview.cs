using AlertNet.Infrastructure.Auth;
using AlertNet.Subscribers;
using Dapper;
using Npgsql;

namespace AlertNet.Dashboard;

/// <summary>The home page's figures: the latest alerts with their state and plain-language counts, how many
/// large sends wait for approval, and subscribers per group and per language. Counts only, never numbers.</summary>
public sealed record GetOverview(int RecentAlerts) : Mediator.IQuery<Overview>;

public sealed record RecentAlert(long Id, string Type, string State, string CreatedBy, DateTimeOffset CreatedAt, int Recipients,
    IReadOnlyDictionary<string, int> Counts);

public sealed record SubscriberCounts(int Active, int OptedOut, IReadOnlyDictionary<string, int> ByLanguage, IReadOnlyList<GroupCount> Groups);

public sealed record GroupCount(string Name, int Active, int Pending, IReadOnlyDictionary<string, int> ByLanguage);

/// <summary><see cref="HeldAtProvider"/>: messages the provider still holds (on their way, or final and waiting to be
/// deleted there); <see cref="CarrierOutages"/>: senders the provider has stopped answering for.</summary>
public sealed record Overview(IReadOnlyList<RecentAlert> Alerts, int AwaitingApproval, SubscriberCounts Subscribers,
    Carrier.ProviderRecords HeldAtProvider, IReadOnlyList<Carrier.CarrierOutage> CarrierOutages);

public sealed class GetOverviewHandler(NpgsqlDataSource db, Mediator.IMediator mediator, Carrier.ProviderDeletions deletions,
    Carrier.CarrierHealth health) : Mediator.IQueryHandler<GetOverview, Overview>
{
    public async ValueTask<Overview> Handle(GetOverview query, CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        using var results = await connection.QueryMultipleAsync(new CommandDefinition(
            """
            SELECT id, type, state, created_by AS createdby, created_at AS createdat,
                   coalesce(recipients, estimated_recipients, 0) AS recipients
            FROM alerts ORDER BY created_at DESC, id DESC LIMIT @limit;

            SELECT d.alert_id AS alertid, d.state, d.error_code AS errorcode, count(*)::int AS count
            FROM deliveries d
            WHERE d.alert_id IN (SELECT id FROM alerts ORDER BY created_at DESC, id DESC LIMIT @limit)
            GROUP BY d.alert_id, d.state, d.error_code;

            -- Alerts and recurring campaigns alike wait on the approvals page.
            SELECT ((SELECT count(*) FROM alerts WHERE state = 'awaiting_approval')
                  + (SELECT count(*) FROM campaigns WHERE state = 'awaiting_approval'))::int;

            -- A person subscribed by SMS and WhatsApp is one person.
            SELECT language, count(DISTINCT phone_index)::int AS count
            FROM reachable_subscribers
            GROUP BY language;

            SELECT count(*)::int FROM opt_outs;
            """,
            new { limit = query.RecentAlerts }, cancellationToken: cancellationToken));
        var alerts = (await results.ReadAsync<AlertRow>()).ToList();
        var states = (await results.ReadAsync<StateRow>()).ToLookup(s => s.AlertId);
        var awaiting = await results.ReadSingleAsync<int>();
        var byLanguage = (await results.ReadAsync<(string Language, int Count)>()).OrderBy(l => l.Language, StringComparer.Ordinal)
            .ToDictionary(l => l.Language, l => l.Count);
        var optedOut = await results.ReadSingleAsync<int>();
        var groups = await mediator.Send(new ListGroups(), cancellationToken);

        return new Overview(
            alerts.Select(a =>
            {
                var counts = GetAlertDashboardHandler.BucketCounts(states[a.Id].Select(s => (s.State, s.ErrorCode, s.Count)),
                    fannedOut: states[a.Id].Any(), recipients: a.Recipients);
                return new RecentAlert(a.Id, a.Type, a.State, a.CreatedBy, new DateTimeOffset(DateTime.SpecifyKind(a.CreatedAt, DateTimeKind.Utc)),
                    a.Recipients, counts);
            }).ToList(),
            awaiting,
            new SubscriberCounts(byLanguage.Values.Sum(), optedOut, byLanguage,
                groups.Select(g => new GroupCount(g.Name, g.ActiveMembers, g.PendingMembers, g.ActiveMembersByLanguage)).ToList()),
            await deletions.CountAsync(cancellationToken),
            await health.OutagesAsync(cancellationToken));
    }

    private sealed record AlertRow(long Id, string Type, string State, string CreatedBy, DateTime CreatedAt, int Recipients);

    private sealed record StateRow(long AlertId, string State, int? ErrorCode, int Count);
}

public static class GetOverviewEndpoint
{
    public const int RecentAlerts = 10;

    public static void MapGetOverview(this IEndpointRouteBuilder app) =>
        app.MapGet("/api/overview", async (Mediator.IMediator mediator, CancellationToken cancellationToken) =>
                Results.Ok(await mediator.Send(new GetOverview(RecentAlerts), cancellationToken)))
            .RequireAuthorization(Policies.Watch);
}
