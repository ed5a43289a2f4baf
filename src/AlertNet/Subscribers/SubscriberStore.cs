using Dapper;
using Npgsql;

namespace AlertNet.Subscribers;

/// <summary>Subscription changes shared by the keywords that make them. Everything is keyed by the
/// blind index of the number: the plaintext number never reaches SQL.</summary>
public static class SubscriberStore
{
    /// <summary>Subscribes (or re-subscribes) an address to the default group in a language.
    /// An explicit JOIN lifts an earlier opt-out.</summary>
    public static async Task JoinDefaultGroupAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string channel,
        byte[] phoneIndex, byte[] phoneCipher, string language, CancellationToken cancellationToken)
    {
        await connection.ExecuteAsync(new CommandDefinition(
            """
            DELETE FROM opt_outs WHERE phone_index = @phoneIndex;
            WITH subscriber AS (
                INSERT INTO subscribers (channel, phone_index, phone_cipher, language)
                VALUES (@channel, @phoneIndex, @phoneCipher, @language)
                ON CONFLICT (channel, phone_index) DO UPDATE
                    SET status = 'active', language = EXCLUDED.language, updated_at = now()
                RETURNING id)
            INSERT INTO memberships (group_id, subscriber_id)
            SELECT g.id, s.id FROM groups g, subscriber s WHERE g.is_default
            ON CONFLICT (group_id, subscriber_id) DO UPDATE SET status = 'active';
            """,
            new { channel, phoneIndex, phoneCipher, language }, transaction, cancellationToken: cancellationToken));
    }

    /// <summary>Opts a number out on every channel, at once: pending deliveries to it are skipped, and
    /// the send path re-checks the opt-out list before each message. Returns false when it was
    /// already opted out (so the confirmation goes out exactly once).</summary>
    public static async Task<bool> OptOutAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, byte[] phoneIndex,
        CancellationToken cancellationToken)
    {
        var inserted = await connection.ExecuteAsync(new CommandDefinition(
            "INSERT INTO opt_outs (phone_index) VALUES (@phoneIndex) ON CONFLICT DO NOTHING",
            new { phoneIndex }, transaction, cancellationToken: cancellationToken));
        await connection.ExecuteAsync(new CommandDefinition(
            """
            UPDATE subscribers SET status = 'opted_out', updated_at = now() WHERE phone_index = @phoneIndex;
            UPDATE deliveries SET state = 'skipped', updated_at = now(), completed_at = now()
            WHERE state = 'pending'
              AND subscriber_id IN (SELECT id FROM subscribers WHERE phone_index = @phoneIndex);
            """,
            new { phoneIndex }, transaction, cancellationToken: cancellationToken));
        return inserted == 1;
    }

    /// <summary>START: lifts the opt-out and reactivates every subscription of the number.
    /// Returns false when the number has never subscribed.</summary>
    public static async Task<bool> OptInAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, byte[] phoneIndex,
        CancellationToken cancellationToken)
    {
        var reactivated = await connection.ExecuteAsync(new CommandDefinition(
            """
            DELETE FROM opt_outs WHERE phone_index = @phoneIndex;
            UPDATE subscribers SET status = 'active', updated_at = now() WHERE phone_index = @phoneIndex;
            """,
            new { phoneIndex }, transaction, cancellationToken: cancellationToken));
        return reactivated > 0;
    }

    /// <summary>Sets the language of every subscription of the number; false when it has none.</summary>
    public static async Task<bool> SetLanguageAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, byte[] phoneIndex,
        string language, CancellationToken cancellationToken) =>
        await connection.ExecuteAsync(new CommandDefinition(
            "UPDATE subscribers SET language = @language, updated_at = now() WHERE phone_index = @phoneIndex",
            new { phoneIndex, language }, transaction, cancellationToken: cancellationToken)) > 0;

    public static Task<bool> IsOptedOutAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, byte[] phoneIndex,
        CancellationToken cancellationToken) =>
        connection.ExecuteScalarAsync<bool>(new CommandDefinition(
            "SELECT EXISTS (SELECT 1 FROM opt_outs WHERE phone_index = @phoneIndex)",
            new { phoneIndex }, transaction, cancellationToken: cancellationToken));

    public static Task<string?> LanguageAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, byte[] phoneIndex,
        CancellationToken cancellationToken) =>
        connection.QueryFirstOrDefaultAsync<string?>(new CommandDefinition(
            "SELECT language FROM subscribers WHERE phone_index = @phoneIndex ORDER BY updated_at DESC LIMIT 1",
            new { phoneIndex }, transaction, cancellationToken: cancellationToken));
}
