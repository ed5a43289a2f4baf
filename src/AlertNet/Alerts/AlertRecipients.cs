using Dapper;
using Npgsql;

namespace AlertNet.Alerts;

/// <summary>How many people a send to some groups would reach, as the approval rule counts them (TriggerAlert for one
/// alert, the campaign rules for each run of a recurring campaign).</summary>
internal static class AlertRecipients
{
    /// <summary>The people DispatchAlertJob would send to (one per number, opted-out numbers left out), exactly when
    /// above the threshold. Most sends are small: memberships are counted first up to threshold + 1 rows, so an
    /// urgent alert below the threshold never pays for counting a large list.</summary>
    public static async Task<int> CountAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, long[] groupIds, int threshold,
        CancellationToken cancellationToken)
    {
        const string Members = """
            FROM reachable_members s
            WHERE s.group_id = ANY(@groupIds)
            """;
        var atMost = await connection.ExecuteScalarAsync<int>(new CommandDefinition(
            $"SELECT count(*)::int FROM (SELECT 1 {Members} LIMIT @limit) x", new { groupIds, limit = threshold + 1 }, transaction,
            cancellationToken: cancellationToken));
        return atMost <= threshold
            ? atMost
            : await connection.ExecuteScalarAsync<int>(new CommandDefinition(
                $"SELECT count(DISTINCT s.phone_index)::int {Members}", new { groupIds }, transaction, cancellationToken: cancellationToken));
    }

    /// <summary>The ids of the named groups that exist (a campaign keeps group names; a group may have gone since).</summary>
    public static async Task<long[]> GroupIdsAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, IEnumerable<string> names,
        CancellationToken cancellationToken) =>
        (await connection.QueryAsync<long>(new CommandDefinition(
            "SELECT id FROM groups WHERE name = ANY(@names)", new { names = names.ToArray() }, transaction, cancellationToken: cancellationToken)))
        .ToArray();
}
