using System.Security.Claims;
using AlertNet.Infrastructure.Auth;
using AlertNet.Privacy;
using Dapper;
using Npgsql;

namespace AlertNet.Hotline;

/// <summary>A coordinator's verdict on a report: verified (an organizer may now alert) or a false alarm.
/// A verdict can be changed; each one goes to the audit log.</summary>
public sealed record ReviewReport(long Id, string Status, string ReviewedBy) : Mediator.ICommand<HotlineReport?>;

public static class ReportStatus
{
    public const string New = "new";
    public const string Verified = "verified";
    public const string FalseAlarm = "false_alarm";

    /// <summary>What a review may set; "new" is only where a report starts.</summary>
    public static readonly string[] Verdicts = [Verified, FalseAlarm];
}

public sealed class ReviewReportHandler(NpgsqlDataSource db, PersonalDataProtector protector, AuditLog audit)
    : Mediator.ICommandHandler<ReviewReport, HotlineReport?>
{
    public async ValueTask<HotlineReport?> Handle(ReviewReport command, CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        var row = await connection.QuerySingleOrDefaultAsync<ListReportsHandler.ReportRow>(new CommandDefinition(
            """
            UPDATE hotline_reports SET status = @status, reviewed_by = @reviewedBy, reviewed_at = now()
            WHERE id = @id
            RETURNING id, received_at AS receivedat, channel, status, body_cipher AS bodycipher, reporter_cipher AS reportercipher,
                      reviewed_by AS reviewedby, reviewed_at AS reviewedat, alert_id AS alertid, sighting
            """,
            new { id = command.Id, status = command.Status, reviewedBy = command.ReviewedBy }, cancellationToken: cancellationToken));
        if (row is null)
        {
            return null;
        }

        await audit.RecordAsync(command.ReviewedBy, "hotline.review", $"hotline:{command.Id}", new { command.Status }, cancellationToken);
        return ListReportsHandler.ToReport(row, protector);
    }
}

public sealed record ReviewReportRequest(string? Status);

public static class ReviewReportEndpoint
{
    public static void MapReviewReport(this IEndpointRouteBuilder app) =>
        app.MapPost("/api/hotline/{id:long}/review", async (long id, ReviewReportRequest? request, Mediator.IMediator mediator,
                ClaimsPrincipal user, CancellationToken cancellationToken) =>
            {
                if (request?.Status is not { } status || !ReportStatus.Verdicts.Contains(status))
                {
                    return Results.Problem($"status must be one of: {string.Join(", ", ReportStatus.Verdicts)}.",
                        statusCode: StatusCodes.Status400BadRequest);
                }

                return await mediator.Send(new ReviewReport(id, status, user.Identity!.Name!), cancellationToken) is { } report
                    ? Results.Ok(report)
                    : Results.Problem($"No hotline report {id}.", statusCode: StatusCodes.Status404NotFound);
            })
            .RequireAuthorization(Policies.Watch);
}
