using System.Text.Json;
using AlertNet.Infrastructure.Auth;
using Dapper;
using Npgsql;

namespace AlertNet.Privacy;

/// <summary>The audit log, newest first, a page at a time, optionally for one actor or one action.</summary>
public sealed record ListAudit(long? Before, int Limit, string? Actor, string? Action) : Mediator.IQuery<AuditPage>;

public sealed record AuditEntry(long Id, DateTimeOffset At, string Actor, string Action, string? Subject, JsonElement? Details);

/// <param name="NextBefore">The <c>before</c> of the next (older) page; null on the last page.</param>
public sealed record AuditPage(IReadOnlyList<AuditEntry> Entries, long? NextBefore);

public sealed class ListAuditHandler(NpgsqlDataSource db) : Mediator.IQueryHandler<ListAudit, AuditPage>
{
    public async ValueTask<AuditPage> Handle(ListAudit query, CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        var rows = (await connection.QueryAsync<(long Id, DateTime At, string Actor, string Action, string? Subject, string? Details)>(
            new CommandDefinition(
                """
                SELECT id, at, actor, action, subject, details::text
                FROM audit_log
                WHERE id < @before AND (@actor::text IS NULL OR actor = @actor) AND (@action::text IS NULL OR action = @action)
                ORDER BY id DESC
                LIMIT @limit
                """,
                new { before = query.Before ?? long.MaxValue, limit = query.Limit + 1, actor = query.Actor, action = query.Action },
                cancellationToken: cancellationToken))).ToList();
        var page = rows.Take(query.Limit)
            .Select(r => new AuditEntry(r.Id, DateTime.SpecifyKind(r.At, DateTimeKind.Utc), r.Actor, r.Action, r.Subject,
                r.Details is null ? null : JsonDocument.Parse(r.Details).RootElement.Clone()))
            .ToList();
        return new AuditPage(page, rows.Count > query.Limit ? page[^1].Id : null);
    }
}

public static class ListAuditEndpoint
{
    public const int DefaultLimit = 50;
    public const int MaxLimit = 500;

    public static void MapListAudit(this IEndpointRouteBuilder app) =>
        app.MapGet("/api/audit", async (long? before, int? limit, string? actor, string? action, Mediator.IMediator mediator,
                CancellationToken cancellationToken) =>
            {
                if (before is <= 0)
                {
                    return Results.Problem("before must be an audit entry id.", statusCode: StatusCodes.Status400BadRequest);
                }

                if (limit is < 1 or > MaxLimit)
                {
                    return Results.Problem($"limit must be between 1 and {MaxLimit}.", statusCode: StatusCodes.Status400BadRequest);
                }

                return Results.Ok(await mediator.Send(
                    new ListAudit(before, limit ?? DefaultLimit, string.IsNullOrEmpty(actor) ? null : actor, string.IsNullOrEmpty(action) ? null : action),
                    cancellationToken));
            })
            // Who did what is itself sensitive (it names organizers): admins only.
            .RequireAuthorization(policy => policy.RequireRole(Roles.Admin));
}
