using System.Security.Claims;
using AlertNet.Infrastructure.Auth;
using AlertNet.Privacy;
using Dapper;
using Npgsql;

namespace AlertNet.Hotline;

/// <summary>A coordinator says two reports are the same sighting (five people texting about the same vans). The two
/// groups they belong to become one, kept as a pointer from every report to the group's first (earliest) one; an alert
/// made from any of them is linked to all of them (TriggerAlert).</summary>
public sealed record GroupReports(long Id, long SameAs, string GroupedBy) : Mediator.ICommand<GroupReportsResult>;

public enum GroupReportsResult
{
    Grouped,
    NotFound,
    Same,
}

public sealed class GroupReportsHandler(NpgsqlDataSource db, AuditLog audit) : Mediator.ICommandHandler<GroupReports, GroupReportsResult>
{
    public async ValueTask<GroupReportsResult> Handle(GroupReports command, CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        // Both groups' first reports, locked in id order so two coordinators grouping at once cannot deadlock.
        var roots = (await connection.QueryAsync<long>(new CommandDefinition(
            """
            SELECT coalesce(sighting, id) FROM hotline_reports WHERE id = ANY(@ids) ORDER BY id FOR UPDATE
            """,
            new { ids = new[] { command.Id, command.SameAs } }, transaction, cancellationToken: cancellationToken))).ToList();
        if (roots.Count < 2)
        {
            return command.Id == command.SameAs && roots.Count == 1 ? GroupReportsResult.Same : GroupReportsResult.NotFound;
        }

        if (roots[0] == roots[1])
        {
            return GroupReportsResult.Same;
        }

        var root = roots.Min();
        await connection.ExecuteAsync(new CommandDefinition(
            """
            UPDATE hotline_reports SET sighting = CASE WHEN id = @root THEN NULL ELSE @root END
            WHERE id = ANY(@roots) OR sighting = ANY(@roots)
            """,
            new { root, roots = roots.ToArray() }, transaction, cancellationToken: cancellationToken));
        await transaction.CommitAsync(cancellationToken);
        await audit.RecordAsync(command.GroupedBy, "hotline.group", $"hotline:{command.Id}", new { command.SameAs }, cancellationToken);
        return GroupReportsResult.Grouped;
    }
}

public sealed record GroupReportsRequest(long? SameAs);

public static class GroupReportsEndpoint
{
    public static void MapGroupReports(this IEndpointRouteBuilder app) =>
        app.MapPost("/api/hotline/{id:long}/same-sighting", async (long id, GroupReportsRequest? request, Mediator.IMediator mediator,
                ClaimsPrincipal user, CancellationToken cancellationToken) =>
            {
                if (request?.SameAs is not { } sameAs || sameAs <= 0)
                {
                    return Results.Problem("sameAs must be the id of another report.", statusCode: StatusCodes.Status400BadRequest);
                }

                return await mediator.Send(new GroupReports(id, sameAs, Actor.Of(user)), cancellationToken) switch
                {
                    GroupReportsResult.Grouped => Results.Ok(new { id, sameAs }),
                    GroupReportsResult.Same => Results.Problem("These reports are already the same sighting.", statusCode: StatusCodes.Status409Conflict),
                    _ => Results.Problem("No such hotline report.", statusCode: StatusCodes.Status404NotFound),
                };
            })
            .RequireAuthorization(Policies.Watch);
}
