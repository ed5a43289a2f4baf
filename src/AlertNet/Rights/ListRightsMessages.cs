using System.Text.Json;
using Dapper;
using Npgsql;

namespace AlertNet.Rights;

/// <summary>The know-your-rights library, by title.</summary>
public sealed record ListRightsMessages : Mediator.IQuery<IReadOnlyList<RightsMessage>>;

public sealed record RightsMessage(long Id, string Title, IReadOnlyDictionary<string, string> Bodies, string UpdatedBy, DateTimeOffset UpdatedAt);

public sealed class ListRightsMessagesHandler(NpgsqlDataSource db) : Mediator.IQueryHandler<ListRightsMessages, IReadOnlyList<RightsMessage>>
{
    public async ValueTask<IReadOnlyList<RightsMessage>> Handle(ListRightsMessages query, CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        var rows = await connection.QueryAsync<(long Id, string Title, string Bodies, string UpdatedBy, DateTime UpdatedAt)>(new CommandDefinition(
            "SELECT id, title, bodies::text, updated_by, updated_at FROM rights_messages ORDER BY title",
            cancellationToken: cancellationToken));
        return rows.Select(r => new RightsMessage(r.Id, r.Title, JsonSerializer.Deserialize<Dictionary<string, string>>(r.Bodies)!, r.UpdatedBy,
            DateTime.SpecifyKind(r.UpdatedAt, DateTimeKind.Utc))).ToList();
    }
}
