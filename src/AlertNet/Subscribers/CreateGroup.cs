using System.Security.Claims;
using AlertNet.Infrastructure.Auth;
using AlertNet.Privacy;
using Dapper;
using Mediator;
using Npgsql;

namespace AlertNet.Subscribers;

/// <summary>An organizer adds a group (a neighbourhood, a team) that people join by texting one of its
/// keywords, or JOIN and the keyword. The group's name, normalized, is always one of its keywords.</summary>
public sealed record CreateGroup(string Name, IReadOnlyList<string> Keywords, bool DoubleOptIn, string CreatedBy)
    : Mediator.ICommand<CreateGroupResult>;

public abstract record CreateGroupResult
{
    public sealed record Created(GroupSummary Group) : CreateGroupResult;

    public sealed record Rejected(string Reason) : CreateGroupResult;
}

public sealed class CreateGroupHandler(NpgsqlDataSource db, AuditLog audit) : ICommandHandler<CreateGroup, CreateGroupResult>
{
    public async ValueTask<CreateGroupResult> Handle(CreateGroup command, CancellationToken cancellationToken)
    {
        var keywords = CreateGroupEndpoint.KeywordsOf(command.Name, command.Keywords);
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        if (await connection.ExecuteScalarAsync<bool>(new CommandDefinition(
                "SELECT EXISTS (SELECT 1 FROM groups WHERE lower(name) = lower(@name))", new { name = command.Name },
                transaction, cancellationToken: cancellationToken)))
        {
            return new CreateGroupResult.Rejected($"A group named '{command.Name}' already exists.");
        }

        var taken = (await connection.QueryAsync<(string Keyword, string Group)>(new CommandDefinition(
            "SELECT k.keyword, g.name FROM group_keywords k JOIN groups g ON g.id = k.group_id WHERE k.keyword = ANY(@keywords)",
            new { keywords }, transaction, cancellationToken: cancellationToken))).ToList();
        if (taken.Count > 0)
        {
            return new CreateGroupResult.Rejected(
                string.Join(" ", taken.Select(t => $"Keyword '{t.Keyword}' is already used by group '{t.Group}'.")));
        }

        long id;
        try
        {
            id = await connection.ExecuteScalarAsync<long>(new CommandDefinition(
                """
                WITH g AS (INSERT INTO groups (name, double_opt_in) VALUES (@name, @doubleOptIn) RETURNING id),
                     k AS (INSERT INTO group_keywords (keyword, group_id) SELECT unnest(@keywords), id FROM g)
                SELECT id FROM g
                """,
                new { name = command.Name, doubleOptIn = command.DoubleOptIn, keywords }, transaction, cancellationToken: cancellationToken));
            await transaction.CommitAsync(cancellationToken);
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.UniqueViolation)
        {
            // Another organizer created the same name or keyword a moment ago.
            return new CreateGroupResult.Rejected("That group name or one of its keywords was just taken; list the groups and try again.");
        }

        await audit.RecordAsync(command.CreatedBy, "group.create", $"group:{id}",
            new { command.Name, keywords, command.DoubleOptIn }, cancellationToken);
        return new CreateGroupResult.Created(new GroupSummary(id, command.Name, keywords, command.DoubleOptIn, false, 0, 0,
            new Dictionary<string, int>()));
    }
}

public sealed record CreateGroupRequest(string? Name, string[]? Keywords, bool? DoubleOptIn);

public static class CreateGroupEndpoint
{
    public const int MaxNameLength = 60;
    public const int MaxKeywordLength = 30;
    public const int MaxKeywords = 20;

    public static void MapCreateGroup(this IEndpointRouteBuilder app) =>
        app.MapPost("/api/groups", async (CreateGroupRequest request, IMediator mediator, ClaimsPrincipal user,
                CancellationToken cancellationToken) =>
            {
                var problem = Validate(request);
                if (problem is not null)
                {
                    return Results.Problem(problem, statusCode: StatusCodes.Status400BadRequest);
                }

                var result = await mediator.Send(new CreateGroup(request.Name!.Trim(), request.Keywords ?? [], request.DoubleOptIn ?? false,
                    user.Identity!.Name!), cancellationToken);
                return result switch
                {
                    CreateGroupResult.Created created => Results.Created("/api/groups", created.Group),
                    CreateGroupResult.Rejected rejected => Results.Problem(rejected.Reason, statusCode: StatusCodes.Status400BadRequest),
                    _ => throw new InvalidOperationException("Unexpected result."),
                };
            })
            .RequireAuthorization(Policies.Organize);

    /// <summary>The keywords a group is stored with: its name and its keywords, normalized, without repeats.</summary>
    public static string[] KeywordsOf(string name, IEnumerable<string> keywords) =>
        keywords.Prepend(name).Select(Keywords.Normalize).Distinct(StringComparer.Ordinal).ToArray();

    private static string? Validate(CreateGroupRequest request)
    {
        if (string.IsNullOrWhiteSpace(request.Name) || Keywords.Normalize(request.Name).Length == 0)
        {
            return "name is required and needs letters or digits, e.g. \"Eastside\".";
        }

        if (request.Name.Trim().Length > MaxNameLength)
        {
            return $"name is longer than {MaxNameLength} characters.";
        }

        var keywords = request.Keywords ?? [];
        if (keywords.Length > MaxKeywords)
        {
            return $"A group has at most {MaxKeywords} keywords.";
        }

        foreach (var keyword in keywords)
        {
            if (keyword is null || Keywords.Normalize(keyword).Length == 0)
            {
                return "Every keyword needs letters or digits.";
            }

            if (keyword.Length > MaxKeywordLength)
            {
                return $"Keyword '{keyword}' is longer than {MaxKeywordLength} characters.";
            }
        }

        // A subscriber texting the keyword must reach the group, never STOP, HELP or JOIN.
        var reserved = keywords.Prepend(request.Name).Where(Keywords.IsReserved).ToList();
        return reserved.Count > 0
            ? $"'{reserved[0]}' is one of AlertNet's own keywords (like STOP, JOIN, HELP) and cannot name a group or be its keyword."
            : null;
    }
}
