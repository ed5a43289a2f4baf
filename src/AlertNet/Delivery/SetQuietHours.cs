using System.Security.Claims;
using AlertNet.Infrastructure.Auth;
using AlertNet.Privacy;
using Dapper;
using Npgsql;

namespace AlertNet.Delivery;

/// <summary>Sets (or clears, with no start) a group's quiet hours for bulk sends.</summary>
public sealed record SetQuietHours(string Group, TimeOnly? Start, TimeOnly? End, string? TimeZone, string SetBy) : Mediator.ICommand<bool>;

public sealed class SetQuietHoursHandler(NpgsqlDataSource db, AuditLog audit) : Mediator.ICommandHandler<SetQuietHours, bool>
{
    public async ValueTask<bool> Handle(SetQuietHours command, CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        var updated = await connection.ExecuteAsync(new CommandDefinition(
            "UPDATE groups SET quiet_start = @start, quiet_end = @end, time_zone = @zone WHERE name = @Group",
            new { command.Group, start = command.Start?.ToTimeSpan(), end = command.End?.ToTimeSpan(), zone = command.TimeZone },
            cancellationToken: cancellationToken));
        if (updated == 1)
        {
            await audit.RecordAsync(command.SetBy, "group.quiet_hours", $"group:{command.Group}",
                new { command.Start, command.End, command.TimeZone }, cancellationToken);
        }

        return updated == 1;
    }
}

public sealed record SetQuietHoursRequest(string? Start, string? End, string? TimeZone);

public static class SetQuietHoursEndpoint
{
    public static void MapSetQuietHours(this IEndpointRouteBuilder app) =>
        app.MapPut("/api/groups/{name}/quiet-hours", async (string name, SetQuietHoursRequest request, Mediator.IMediator mediator,
                ClaimsPrincipal user, CancellationToken cancellationToken) =>
            {
                SetQuietHours command;
                if (request.Start is null && request.End is null)
                {
                    command = new SetQuietHours(name, null, null, null, user.Identity!.Name!);
                }
                else if (!TimeOnly.TryParse(request.Start, out var start) || !TimeOnly.TryParse(request.End, out var end) || start == end)
                {
                    return Results.Problem("start and end must be different local times such as \"21:00\" and \"08:00\".", statusCode: StatusCodes.Status400BadRequest);
                }
                else if (request.TimeZone is null || !TimeZoneInfo.TryFindSystemTimeZoneById(request.TimeZone, out _))
                {
                    return Results.Problem("timeZone must be an IANA time zone such as \"America/New_York\".", statusCode: StatusCodes.Status400BadRequest);
                }
                else
                {
                    command = new SetQuietHours(name, start, end, request.TimeZone, user.Identity!.Name!);
                }

                return await mediator.Send(command, cancellationToken)
                    ? Results.Ok(new { group = name, request.Start, request.End, request.TimeZone })
                    : Results.Problem($"No group {name}.", statusCode: StatusCodes.Status404NotFound);
            })
            .RequireAuthorization(Policies.Organize);
}
