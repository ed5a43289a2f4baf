using AlertNet.Delivery;
using Dapper;
using Npgsql;

namespace AlertNet.Subscribers;

/// <summary>The one opt-out routine. Every path that learns a number must get nothing more calls it: a STOP texted to
/// AlertNet, and Twilio's 21610 (the person texted STOP to Twilio) from the API or in a status callback. Whatever the
/// path, the same happens in the caller's transaction: the number goes on the opt-out list (which survives every
/// purge), its subscriptions on every channel end, memberships waiting for a YES are dropped, and its deliveries still
/// waiting in any alert are skipped. A batch already sending sees the change within a quarter second (the
/// subscribers' updated_at, which its watcher reads). The emergency purge removes people instead of opting them out;
/// its pending deliveries are skipped by the same unlinking that retention uses.</summary>
public static class OptOut
{
    /// <summary>Opts out the numbers with these blind indexes; returns how many were not opted out before (so a STOP
    /// is confirmed exactly once).</summary>
    public static async Task<int> ApplyAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, byte[][] phoneIndexes,
        CancellationToken cancellationToken)
    {
        if (phoneIndexes.Length == 0)
        {
            return 0;
        }

        var added = await connection.ExecuteScalarAsync<int>(new CommandDefinition(
            """
            WITH added AS (
                INSERT INTO opt_outs (phone_index) SELECT DISTINCT unnest(@phoneIndexes) ORDER BY 1
                ON CONFLICT DO NOTHING
                RETURNING 1)
            SELECT count(*)::int FROM added;
            """,
            new { phoneIndexes }, transaction, cancellationToken: cancellationToken));
        var subscriberIds = (await connection.QueryAsync<long>(new CommandDefinition(
            """
            UPDATE subscribers SET status = 'opted_out', updated_at = now()
            WHERE phone_index = ANY(@phoneIndexes)
            RETURNING id
            """,
            new { phoneIndexes }, transaction, cancellationToken: cancellationToken))).ToArray();
        await connection.ExecuteAsync(new CommandDefinition(
            "UPDATE memberships SET status = 'left' WHERE status = 'pending' AND subscriber_id = ANY(@subscriberIds)",
            new { subscriberIds }, transaction, cancellationToken: cancellationToken));
        await DeliveryStore.SkipPendingAsync(connection, transaction, subscriberIds, cancellationToken);
        return added;
    }

    /// <summary>Opts out the recipients of these deliveries (Twilio said 21610 for them).</summary>
    public static async Task ApplyToRecipientsAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, long[] deliveryIds,
        CancellationToken cancellationToken)
    {
        var phoneIndexes = (await connection.QueryAsync<byte[]>(new CommandDefinition(
            """
            SELECT DISTINCT s.phone_index FROM deliveries d JOIN subscribers s ON s.id = d.subscriber_id
            WHERE d.id = ANY(@deliveryIds)
            """,
            new { deliveryIds }, transaction, cancellationToken: cancellationToken))).ToArray();
        await ApplyAsync(connection, transaction, phoneIndexes, cancellationToken);
    }
}
