using System.Text.Json;
using Dapper;
using Mediator;
using Npgsql;

namespace AlertNet.Alerts;

/// <summary>The alerts a correction or all-clear can follow up, newest first: sent (fanned out) in the last
/// <paramref name="Days"/> days and not yet past retention. The composer offers them when its kind is a follow-up.</summary>
public sealed record ListFollowUpOriginals(int Days = 7, int Limit = 20) : IQuery<IReadOnlyList<FollowUpOriginal>>;

/// <summary><paramref name="Text"/>: the start of its text in <paramref name="Language"/> (the first it has), to tell
/// alerts apart.</summary>
public sealed record FollowUpOriginal(long Id, string Type, DateTimeOffset CreatedAt, int Recipients, string Language, string Text);

public sealed class ListFollowUpOriginalsHandler(NpgsqlDataSource db) : IQueryHandler<ListFollowUpOriginals, IReadOnlyList<FollowUpOriginal>>
{
    private const int TextLength = 60;

    public async ValueTask<IReadOnlyList<FollowUpOriginal>> Handle(ListFollowUpOriginals query, CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        var rows = await connection.QueryAsync<(long Id, string Type, DateTime CreatedAt, int Recipients, string Bodies)>(new CommandDefinition(
            """
            SELECT id, type, created_at, coalesce(recipients, 0), bodies::text
            FROM alerts
            WHERE fanned_out_at IS NOT NULL AND personal_data_removed_at IS NULL
              AND created_at > now() - make_interval(days => @Days)
            ORDER BY id DESC
            LIMIT @Limit
            """,
            query, cancellationToken: cancellationToken));
        return rows.Select(row =>
        {
            var (language, text) = JsonSerializer.Deserialize<Dictionary<string, string>>(row.Bodies)!.First();
            return new FollowUpOriginal(row.Id, row.Type, new DateTimeOffset(DateTime.SpecifyKind(row.CreatedAt, DateTimeKind.Utc)),
                row.Recipients, language, text.Length <= TextLength ? text : text[..TextLength] + "…");
        }).ToList();
    }
}
