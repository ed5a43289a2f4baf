using System.Text.Json;
using Dapper;
using Npgsql;

namespace AlertNet.Alerts;

/// <summary>What LATEST answers (Subscribers/ReceiveInboundMessage): the alerts still in force that were sent to a number,
/// newest first. In force: not expired, from the last day, not a know-your-rights message. A follow-up that reached the
/// number replaces its original (a retracted raid report is not repeated, its retraction is). Sent to: any delivery but
/// one skipped or cancelled, so someone whose phone was off, or whose copy failed, can still read it.</summary>
public static class LatestAlerts
{
    public const int Limit = 3;

    public sealed record Sent(DateTimeOffset At, IReadOnlyDictionary<string, string> Bodies);

    public static async Task<IReadOnlyList<Sent>> ForNumberAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, byte[] phoneIndex,
        CancellationToken cancellationToken)
    {
        var rows = await connection.QueryAsync<(DateTime At, string Bodies)>(new CommandDefinition(
            """
            WITH mine AS (
                SELECT a.id, a.follow_up_of, a.created_at, a.bodies
                FROM subscribers s
                JOIN deliveries d ON d.subscriber_id = s.id AND d.state NOT IN ('skipped', 'cancelled')
                JOIN alerts a ON a.id = d.alert_id
                WHERE s.phone_index = @phoneIndex
                  AND a.type <> 'know_your_rights'
                  AND a.created_at > now() - interval '1 day'
                  AND (a.expires_at IS NULL OR a.expires_at > now()))
            SELECT DISTINCT ON (m.id) m.created_at, m.bodies::text
            FROM mine m
            WHERE NOT EXISTS (SELECT 1 FROM mine f WHERE f.follow_up_of = m.id)
            ORDER BY m.id DESC
            LIMIT @limit
            """,
            new { phoneIndex, limit = Limit }, transaction, cancellationToken: cancellationToken));
        return rows.Select(r => new Sent(new DateTimeOffset(DateTime.SpecifyKind(r.At, DateTimeKind.Utc)),
            JsonSerializer.Deserialize<Dictionary<string, string>>(r.Bodies)!)).ToList();
    }
}
