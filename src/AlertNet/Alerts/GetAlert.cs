using System.Text.Json;
using AlertNet.Delivery;
using AlertNet.Infrastructure.Auth;
using Dapper;
using Mediator;
using Npgsql;

namespace AlertNet.Alerts;

public sealed record GetAlert(long Id) : IQuery<AlertView?>;

/// <summary>An alert with its delivery counts keyed by every delivery state (zeros included), so a
/// dashboard can tell "nothing failed" from "not counted"; who created, approved, rejected or cancelled it.
/// EstimatedRecipients is the count taken when a large send was held for approval (Recipients is set at fan-out).</summary>
public sealed record AlertView(
    long Id,
    string Type,
    string State,
    int Recipients,
    IReadOnlyDictionary<string, int> Counts,
    IReadOnlyDictionary<string, string> Bodies,
    DateTimeOffset CreatedAt,
    DateTimeOffset? ExpiresAt,
    DateTimeOffset? FinishedAt,
    IReadOnlyList<string> Groups,
    string CreatedBy,
    DateTimeOffset? SendAt,
    int? EstimatedRecipients,
    string? ApprovedBy,
    DateTimeOffset? ApprovedAt,
    string? RejectedBy,
    string? RejectReason,
    string? CancelledBy,
    long? FollowUpOf,
    IReadOnlyList<FollowUpView> FollowUps,
    string? Verification,
    string? VerifiedBy,
    DateTimeOffset? VerifiedAt,
    IReadOnlyList<long> Reports);

/// <summary>A correction, all-clear or retraction sent to an alert's recipients (SendFollowUp).</summary>
public sealed record FollowUpView(long Id, string Type, string State, DateTimeOffset CreatedAt, string CreatedBy);

public sealed class GetAlertHandler(NpgsqlDataSource db) : IQueryHandler<GetAlert, AlertView?>
{
    public async ValueTask<AlertView?> Handle(GetAlert query, CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        var alert = await connection.QuerySingleOrDefaultAsync<AlertRow>(new CommandDefinition(
            """
            SELECT a.id, a.type, a.state, coalesce(a.recipients, 0) AS recipients, a.bodies::text AS bodies,
                   a.created_at AS createdat, a.expires_at AS expiresat, a.finished_at AS finishedat,
                   coalesce((SELECT array_agg(g.name ORDER BY g.name) FROM groups g WHERE g.id = ANY (a.target_groups)), '{}') AS groups,
                   a.created_by AS createdby, a.send_at AS sendat, a.estimated_recipients AS estimatedrecipients,
                   a.approved_by AS approvedby, a.approved_at AS approvedat, a.rejected_by AS rejectedby,
                   a.reject_reason AS rejectreason, a.cancelled_by AS cancelledby, a.follow_up_of AS followupof,
                   a.verification, a.verified_by AS verifiedby, a.verified_at AS verifiedat
            FROM alerts a WHERE a.id = @id
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

        var followUps = (await connection.QueryAsync<(long Id, string Type, string State, DateTime CreatedAt, string CreatedBy)>(
                new CommandDefinition(
                    "SELECT id, type, state, created_at, created_by FROM alerts WHERE follow_up_of = @id ORDER BY id",
                    new { id = query.Id }, cancellationToken: cancellationToken)))
            .Select(f => new FollowUpView(f.Id, f.Type, f.State, Utc(f.CreatedAt), f.CreatedBy)).ToList();

        var reports = (await connection.QueryAsync<long>(new CommandDefinition(
            "SELECT id FROM hotline_reports WHERE alert_id = @id ORDER BY id", new { id = query.Id }, cancellationToken: cancellationToken))).ToList();

        return new AlertView(alert.Id, alert.Type, alert.State, alert.Recipients, counts,
            JsonSerializer.Deserialize<Dictionary<string, string>>(alert.Bodies)!,
            Utc(alert.CreatedAt), Utc(alert.ExpiresAt), Utc(alert.FinishedAt), alert.Groups, alert.CreatedBy, Utc(alert.SendAt),
            alert.EstimatedRecipients, alert.ApprovedBy, Utc(alert.ApprovedAt), alert.RejectedBy, alert.RejectReason, alert.CancelledBy,
            alert.FollowUpOf, followUps, alert.Verification, alert.VerifiedBy, Utc(alert.VerifiedAt), reports);
    }

    private static DateTimeOffset Utc(DateTime value) => new(DateTime.SpecifyKind(value, DateTimeKind.Utc));

    private static DateTimeOffset? Utc(DateTime? value) => value is { } v ? Utc(v) : null;

    // A class, not a positional record: Dapper reports text[] as System.Array, which no constructor matches.
    private sealed class AlertRow
    {
        public long Id { get; set; }

        public string Type { get; set; } = "";

        public string State { get; set; } = "";

        public int Recipients { get; set; }

        public string Bodies { get; set; } = "";

        public DateTime CreatedAt { get; set; }

        public DateTime? ExpiresAt { get; set; }

        public DateTime? FinishedAt { get; set; }

        public string[] Groups { get; set; } = [];

        public string CreatedBy { get; set; } = "";

        public DateTime? SendAt { get; set; }

        public int? EstimatedRecipients { get; set; }

        public string? ApprovedBy { get; set; }

        public DateTime? ApprovedAt { get; set; }

        public string? RejectedBy { get; set; }

        public string? RejectReason { get; set; }

        public string? CancelledBy { get; set; }

        public long? FollowUpOf { get; set; }

        public string? Verification { get; set; }

        public string? VerifiedBy { get; set; }

        public DateTime? VerifiedAt { get; set; }
    }
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
