using AlertNet.Infrastructure.Auth;
using AlertNet.Privacy;
using Dapper;
using Npgsql;

namespace AlertNet.Hotline;

/// <summary>The hotline inbox, newest first, a page at a time: each report's text decrypted for the coordinator,
/// the reporter's number only masked (<c>••• ••• 1234</c>).</summary>
public sealed record ListReports(long? Before, int Limit) : Mediator.IQuery<ReportPage>;

/// <param name="AlertId">The alert this report became ("Turn into alert"), if any.</param>
/// <param name="Sighting">The first report of the sighting this one was grouped with (GroupReports), if any.</param>
public sealed record HotlineReport(long Id, DateTimeOffset ReceivedAt, string Channel, string Status, string Text, string Reporter,
    string? ReviewedBy, DateTimeOffset? ReviewedAt, long? AlertId, long? Sighting);

/// <param name="NextBefore">The <c>before</c> of the next (older) page; null on the last page.</param>
public sealed record ReportPage(IReadOnlyList<HotlineReport> Reports, long? NextBefore);

public sealed class ListReportsHandler(NpgsqlDataSource db, PersonalDataProtector protector) : Mediator.IQueryHandler<ListReports, ReportPage>
{
    public async ValueTask<ReportPage> Handle(ListReports query, CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        var rows = (await connection.QueryAsync<ReportRow>(new CommandDefinition(
            """
            SELECT id, received_at AS receivedat, channel, status, body_cipher AS bodycipher, reporter_cipher AS reportercipher,
                   reviewed_by AS reviewedby, reviewed_at AS reviewedat, alert_id AS alertid, sighting
            FROM hotline_reports
            WHERE id < @before
            ORDER BY id DESC
            LIMIT @limit
            """,
            new { before = query.Before ?? long.MaxValue, limit = query.Limit + 1 }, cancellationToken: cancellationToken))).ToList();
        var page = rows.Take(query.Limit).Select(row => ToReport(row, protector)).ToList();
        return new ReportPage(page, rows.Count > query.Limit ? page[^1].Id : null);
    }

    internal static HotlineReport ToReport(ReportRow row, PersonalDataProtector protector) =>
        new(row.Id, row.ReceivedAt, row.Channel, row.Status, protector.Decrypt(row.BodyCipher, CipherPlaces.HotlineText(row.Id)),
            PersonalDataProtector.Mask(protector.Decrypt(row.ReporterCipher, CipherPlaces.HotlineReporter(row.Id))), row.ReviewedBy, row.ReviewedAt,
            row.AlertId, row.Sighting);

    internal sealed record ReportRow(long Id, DateTime ReceivedAt, string Channel, string Status, byte[] BodyCipher, byte[] ReporterCipher,
        string? ReviewedBy, DateTime? ReviewedAt, long? AlertId, long? Sighting);
}

public static class ListReportsEndpoint
{
    public const int DefaultLimit = 50;
    public const int MaxLimit = 200;

    public static void MapListReports(this IEndpointRouteBuilder app) =>
        app.MapGet("/api/hotline", async (long? before, int? limit, Mediator.IMediator mediator, CancellationToken cancellationToken) =>
            {
                if (before is <= 0)
                {
                    return Results.Problem("before must be a report id.", statusCode: StatusCodes.Status400BadRequest);
                }

                if (limit is < 1 or > MaxLimit)
                {
                    return Results.Problem($"limit must be between 1 and {MaxLimit}.", statusCode: StatusCodes.Status400BadRequest);
                }

                return Results.Ok(await mediator.Send(new ListReports(before, limit ?? DefaultLimit), cancellationToken));
            })
            .RequireAuthorization(Policies.Watch);
}
