using System.Text.Json;
using AlertNet.Infrastructure.Auth;
using Dapper;
using Npgsql;

namespace AlertNet.Alerts;

/// <summary>Recurring campaigns waiting for a second organizer, oldest request first: what each run says, when it runs,
/// to whom and how many, who asked and why it waits (created, changed, grew), and whether the caller may approve it.
/// <see cref="AwaitingCampaign.Version"/> is the row version the approver saw, so an approval of a campaign that has
/// changed since is refused (<see cref="ApproveCampaign"/>).</summary>
public sealed record ListCampaignApprovals(string Viewer, bool ViewerMayApprove) : Mediator.IQuery<IReadOnlyList<AwaitingCampaign>>;

public sealed record AwaitingCampaign(long Id, string Name, string Cron, string TimeZone, IReadOnlyList<string> Groups,
    IReadOnlyDictionary<string, string> Bodies, int? Recipients, string RequestedBy, string? Reason, string Version, bool CanApprove);

public sealed class ListCampaignApprovalsHandler(NpgsqlDataSource db)
    : Mediator.IQueryHandler<ListCampaignApprovals, IReadOnlyList<AwaitingCampaign>>
{
    public async ValueTask<IReadOnlyList<AwaitingCampaign>> Handle(ListCampaignApprovals query, CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        var rows = await connection.QueryAsync<Row>(new CommandDefinition(
            $"""
            SELECT id, name, cron, time_zone AS timezone, target_groups AS groups, bodies::text AS bodies,
                   estimated_recipients AS recipients, requested_by AS requestedby, awaiting_reason AS reason, {CampaignVersion.Column} AS version
            FROM campaigns
            WHERE state = 'awaiting_approval'
            ORDER BY coalesce(updated_at, created_at)
            LIMIT 200
            """,
            cancellationToken: cancellationToken));
        return rows.Select(r => new AwaitingCampaign(r.Id, r.Name, r.Cron, r.TimeZone, r.Groups,
                JsonSerializer.Deserialize<Dictionary<string, string>>(r.Bodies)!, r.Recipients, r.RequestedBy, r.Reason, r.Version,
                query.ViewerMayApprove && !Actor.SamePerson(r.RequestedBy, query.Viewer)))
            .ToList();
    }

    // A class, not a positional record: Dapper reports text[] as System.Array, which no constructor matches.
    private sealed class Row
    {
        public long Id { get; set; }

        public string Name { get; set; } = "";

        public string Cron { get; set; } = "";

        public string TimeZone { get; set; } = "";

        public string[] Groups { get; set; } = [];

        public string Bodies { get; set; } = "";

        public int? Recipients { get; set; }

        public string RequestedBy { get; set; } = "";

        public string? Reason { get; set; }

        public string Version { get; set; } = "";
    }
}

/// <summary>A campaign row's version: PostgreSQL's xmin, which every UPDATE of the row changes (a change, a hold after
/// growth, an approval, a rejection), so no write can forget to bump it.</summary>
public static class CampaignVersion
{
    public const string Column = "xmin::text";
}
