using AlertNet.Alerts;
using AlertNet.Delivery;
using AlertNet.Infrastructure.Auth;
using Dapper;
using Npgsql;

namespace AlertNet.Dashboard;

/// <summary>What a coordinator watches while an alert goes out: plain-language counts, progress, the failure rate
/// with a warning above 3 %, failures grouped by what to do next, time from trigger to delivered (p50, p95) and
/// deliveries per few seconds. Built from one pass over the alert's deliveries; it runs every second
/// for every alert someone is watching (see <see cref="DashboardPoller"/>), so it reads counts only, never numbers.</summary>
public sealed record GetAlertDashboard(long Id) : Mediator.IQuery<AlertDashboard?>;

public sealed record DashboardCount(string Key, string Label, int Count);

public sealed record ReasonCode(int? Code, int Count);

public sealed record FailureReasonGroup(string Key, string Label, int Count, IReadOnlyList<ReasonCode> Codes);

public sealed record Throughput(int BucketSeconds, IReadOnlyList<int> Delivered);

public sealed record AlertDashboard(
    long Id,
    string State,
    string Type,
    int Recipients,
    IReadOnlyList<DashboardCount> Counts,
    double ProgressPercent,
    double FailurePercent,
    bool FailureWarning,
    IReadOnlyList<FailureReasonGroup> Reasons,
    double? P50Seconds,
    double? P95Seconds,
    Throughput Throughput,
    DateTimeOffset StartedAt,
    bool Settled);

public sealed class GetAlertDashboardHandler(NpgsqlDataSource db) : Mediator.IQueryHandler<GetAlertDashboard, AlertDashboard?>
{
    /// <summary>Above this failure rate the dashboard warns (design guide §6.9).</summary>
    public const double FailureWarningPercent = 3;

    public const string Queued = "queued";
    public const string Delivering = "delivering";
    public const string Delivered = "delivered";
    public const string NotDelivered = "not_delivered";
    public const string Failed = "failed";
    public const string OptedOut = "opted_out";
    public const string Expired = "expired";
    public const string Cancelled = "cancelled";
    public const string NoReceipt = "no_receipt";

    private static readonly (string Key, string Label)[] Buckets =
    [
        (Queued, "Queued"), (Delivering, "Delivering"), (Delivered, "Delivered"), (NoReceipt, "Sent, no receipt"),
        (NotDelivered, "Not delivered"), (Failed, "Failed"), (OptedOut, "Opted out"), (Expired, "Expired"), (Cancelled, "Cancelled"),
    ];

    private static readonly int[] BucketSizes = [2, 5, 10, 15, 30, 60, 120, 300, 600, 1800, 3600, 7200, 21600, 86400];

    private const int MaxPoints = 60;

    /// <summary>Delivery times are counted in ticks of at least 0.1 s, and of at most this many ticks since the trigger:
    /// p50, p95 and the throughput series come from that histogram, so the query returns a few hundred rows at most
    /// and sorts nothing (an exact percentile over 100k rows cost more than everything else together).</summary>
    private const double MaxTicks = 2000;

    // The trigger time: when Send was pressed, the approval came, or the schedule said, whichever is last.
    private const string AlertSql = """
        SELECT state, type, coalesce(recipients, estimated_recipients, 0) AS recipients, fanned_out_at IS NOT NULL AS fannedout,
               greatest(created_at, approved_at, send_at) AS startedat,
               greatest(date_part('epoch', now() - greatest(created_at, approved_at, send_at)), 0) AS elapsedseconds
        FROM alerts WHERE id = @id
        """;

    // One pass over the alert's deliveries: counts per state and error code, and delivered rows per tick.
    private const string DeliveriesSql = """
        SELECT state, error_code AS errorcode, tick, count(*)::int AS count
        FROM (SELECT state, error_code,
                     CASE WHEN state = 'delivered'
                          THEN floor(greatest(date_part('epoch', completed_at - @startedAt), 0) / @tickSeconds)::int END AS tick
              FROM deliveries WHERE alert_id = @id) d
        GROUP BY state, error_code, tick
        """;

    public async ValueTask<AlertDashboard?> Handle(GetAlertDashboard query, CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        var alert = await connection.QuerySingleOrDefaultAsync<AlertRow>(new CommandDefinition(AlertSql, new { id = query.Id },
            cancellationToken: cancellationToken));
        if (alert is null)
        {
            return null;
        }

        var tickSeconds = Math.Max(0.1, alert.ElapsedSeconds / MaxTicks);
        var rows = (await connection.QueryAsync<DeliveryRow>(new CommandDefinition(DeliveriesSql,
            new { id = query.Id, startedAt = alert.StartedAt, tickSeconds }, cancellationToken: cancellationToken))).ToList();
        return Build(query.Id, alert, rows, tickSeconds);
    }

    /// <summary>Delivery states as the dashboard's plain-language buckets, every bucket present, in display order.
    /// Before fan-out (awaiting approval or a schedule) everyone counted is Queued.</summary>
    public static IReadOnlyDictionary<string, int> BucketCounts(IEnumerable<(string State, int? ErrorCode, int Count)> states, bool fannedOut,
        int recipients)
    {
        var counts = Buckets.ToDictionary(b => b.Key, _ => 0);
        foreach (var (state, errorCode, count) in states)
        {
            counts[BucketOf(state, errorCode)] += count;
        }

        if (!fannedOut)
        {
            counts[Queued] += recipients;
        }

        return counts;
    }

    private static AlertDashboard Build(long id, AlertRow alert, List<DeliveryRow> rows, double tickSeconds)
    {
        var states = rows.GroupBy(r => (r.State, r.ErrorCode)).Select(g => new StateRow(g.Key.State, g.Key.ErrorCode, g.Sum(r => r.Count))).ToList();
        var delivered = rows.Where(r => r.Tick is not null).OrderBy(r => r.Tick).Select(r => (Tick: r.Tick!.Value, r.Count)).ToList();
        var counts = BucketCounts(states.Select(s => (s.State, s.ErrorCode, s.Count)), alert.FannedOut, alert.Recipients);
        var reasons = new Dictionary<string, Dictionary<int, int>>();
        var unsettled = 0;
        foreach (var row in states)
        {
            if (DeliveryState.Rank(row.State) < 4)
            {
                unsettled += row.Count;
            }

            // Failures, and rows waiting to be retried after a transient error.
            var isFailure = row.State is DeliveryState.Undelivered or DeliveryState.Failed;
            var isRetrying = row.State is DeliveryState.Pending or DeliveryState.Sending && row.ErrorCode is not null;
            if (isFailure || isRetrying)
            {
                var key = isRetrying ? FailureReasons.Temporary : FailureReasons.Of(row.ErrorCode);
                var codes = reasons.TryGetValue(key, out var found) ? found : reasons[key] = [];
                // -1 stands for "no code" (Dictionary keys cannot be null).
                codes[row.ErrorCode ?? -1] = codes.GetValueOrDefault(row.ErrorCode ?? -1) + row.Count;
            }
        }

        var recipients = alert.FannedOut ? states.Sum(s => s.Count) : alert.Recipients;
        var finished = recipients - counts[Queued] - counts[Delivering];
        var attempted = counts[Delivered] + counts[NotDelivered] + counts[Failed];
        var failurePercent = attempted == 0 ? 0 : Math.Round(100.0 * (counts[NotDelivered] + counts[Failed]) / attempted, 1);
        var settled = AlertStates.IsFinished(alert.State) && unsettled == 0;
        var progress = recipients == 0 ? (settled ? 100 : 0) : Math.Round(100.0 * finished / recipients, 1);

        return new AlertDashboard(
            id,
            alert.State,
            alert.Type,
            recipients,
            Buckets.Select(b => new DashboardCount(b.Key, b.Label, counts[b.Key])).ToList(),
            progress,
            failurePercent,
            failurePercent > FailureWarningPercent,
            FailureReasons.All
                .Where(r => reasons.ContainsKey(r.Key))
                .Select(r => new FailureReasonGroup(r.Key, r.Label, reasons[r.Key].Values.Sum(),
                    reasons[r.Key].OrderByDescending(c => c.Value).Select(c => new ReasonCode(c.Key == -1 ? null : c.Key, c.Value)).ToList()))
                .ToList(),
            Percentile(delivered, 0.5, tickSeconds),
            Percentile(delivered, 0.95, tickSeconds),
            Series(delivered, tickSeconds),
            new DateTimeOffset(DateTime.SpecifyKind(alert.StartedAt, DateTimeKind.Utc)),
            settled);
    }

    private static string BucketOf(string state, int? errorCode) => state switch
    {
        DeliveryState.Pending => Queued,
        DeliveryState.Sending or DeliveryState.Accepted or DeliveryState.Sent => Delivering,
        DeliveryState.Delivered => Delivered,
        DeliveryState.Undelivered => NotDelivered,
        DeliveryState.Failed when errorCode == TwilioErrors.OptedOut => OptedOut,
        DeliveryState.Failed => Failed,
        DeliveryState.Skipped => OptedOut,
        DeliveryState.Expired => Expired,
        DeliveryState.SentNoReceipt => NoReceipt,
        _ => Cancelled,
    };

    /// <summary>The time by which a share of the delivered messages had arrived, to the middle of its tick.</summary>
    private static double? Percentile(List<(int Tick, int Count)> delivered, double share, double tickSeconds)
    {
        var total = delivered.Sum(d => d.Count);
        if (total == 0)
        {
            return null;
        }

        var rank = share * total;
        var seen = 0;
        foreach (var (tick, count) in delivered)
        {
            seen += count;
            if (seen >= rank)
            {
                return Math.Round((tick + 0.5) * tickSeconds, 1);
            }
        }

        return Math.Round((delivered[^1].Tick + 0.5) * tickSeconds, 1);
    }

    /// <summary>Deliveries per bucket since the trigger, in buckets of a few seconds: as wide as needed for at most
    /// <see cref="MaxPoints"/> points, up to the last delivery.</summary>
    private static Throughput Series(List<(int Tick, int Count)> delivered, double tickSeconds)
    {
        var span = delivered.Count == 0 ? 0 : (int)(delivered[^1].Tick * tickSeconds) + 1;
        var bucket = BucketSizes.FirstOrDefault(size => (span + size - 1) / size <= MaxPoints, BucketSizes[^1]);
        var points = new int[(span + bucket - 1) / bucket];
        foreach (var (tick, count) in delivered)
        {
            points[Math.Min((int)(tick * tickSeconds) / bucket, points.Length - 1)] += count;
        }

        return new Throughput(bucket, points);
    }

    private sealed record AlertRow(string State, string Type, int Recipients, bool FannedOut, DateTime StartedAt, double ElapsedSeconds);

    private sealed record DeliveryRow(string State, int? ErrorCode, int? Tick, int Count);

    private sealed record StateRow(string State, int? ErrorCode, int Count);
}

public static class GetAlertDashboardEndpoint
{
    public static void MapGetAlertDashboard(this IEndpointRouteBuilder app) =>
        app.MapGet("/api/alerts/{id:long}/dashboard", async (long id, Mediator.IMediator mediator, CancellationToken cancellationToken) =>
                await mediator.Send(new GetAlertDashboard(id), cancellationToken) is { } dashboard
                    ? Results.Ok(dashboard)
                    : Results.Problem($"No alert {id}.", statusCode: StatusCodes.Status404NotFound))
            .RequireAuthorization(Policies.Watch);
}
