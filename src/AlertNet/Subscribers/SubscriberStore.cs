using AlertNet.Privacy;
using Dapper;
using Npgsql;

namespace AlertNet.Subscribers;

/// <summary>A group as the keywords see it.</summary>
public sealed record GroupRef(long Id, string Name, bool DoubleOptIn, bool IsDefault);

/// <summary>Subscription changes shared by the keywords that make them. Everything is keyed by the
/// blind index of the number: the plaintext number never reaches SQL.</summary>
public static class SubscriberStore
{
    public const string Active = "active";
    public const string Pending = "pending";

    /// <summary>The group a (normalized) keyword or group name stands for; the default group for null.</summary>
    public static Task<GroupRef?> FindGroupAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string? keyword,
        CancellationToken cancellationToken) =>
        connection.QuerySingleOrDefaultAsync<GroupRef?>(new CommandDefinition(
            keyword is null
                ? "SELECT id, name, double_opt_in AS doubleoptin, is_default AS isdefault FROM groups WHERE is_default"
                : """
                  SELECT g.id, g.name, g.double_opt_in AS doubleoptin, g.is_default AS isdefault
                  FROM group_keywords k JOIN groups g ON g.id = k.group_id
                  WHERE k.keyword = @keyword
                  """,
            new { keyword }, transaction, cancellationToken: cancellationToken));

    /// <summary>Subscribes (or re-subscribes) an address to a group in a language, and returns the membership's
    /// status: 'active', or 'pending' when the group wants a YES first. An explicit JOIN to a group without
    /// double opt-in lifts an earlier opt-out; with double opt-in, the YES does.</summary>
    /// <param name="phoneCipher">The number encrypted for a new subscriber row with the given id (unused when the
    /// number is already subscribed on the channel: that row keeps its own id and ciphertext).</param>
    public static async Task<string> JoinGroupAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string channel,
        byte[] phoneIndex, Func<long, byte[]> phoneCipher, string language, GroupRef group, CancellationToken cancellationToken)
    {
        if (!group.DoubleOptIn)
        {
            await connection.ExecuteAsync(new CommandDefinition(
                "DELETE FROM opt_outs WHERE phone_index = @phoneIndex", new { phoneIndex }, transaction, cancellationToken: cancellationToken));
        }

        var id = await RowIds.NextAsync(connection, transaction, "subscribers", cancellationToken);
        return await connection.ExecuteScalarAsync<string>(new CommandDefinition(
            """
            WITH subscriber AS (
                INSERT INTO subscribers (id, channel, phone_index, phone_cipher, language) OVERRIDING SYSTEM VALUE
                VALUES (@id, @channel, @phoneIndex, @phoneCipher, @language)
                ON CONFLICT (channel, phone_index) DO UPDATE
                    SET status = CASE WHEN @doubleOptIn THEN subscribers.status ELSE 'active' END,
                        language = EXCLUDED.language, updated_at = now()
                RETURNING id)
            INSERT INTO memberships (group_id, subscriber_id, status)
            SELECT @groupId, s.id, CASE WHEN @doubleOptIn THEN 'pending' ELSE 'active' END FROM subscriber s
            ON CONFLICT (group_id, subscriber_id) DO UPDATE
                SET status = CASE WHEN memberships.status = 'active' THEN 'active' ELSE EXCLUDED.status END
            RETURNING status
            """,
            new { id, channel, phoneIndex, phoneCipher = phoneCipher(id), language, groupId = group.Id, doubleOptIn = group.DoubleOptIn },
            transaction, cancellationToken: cancellationToken)) ?? throw new InvalidOperationException("Join wrote no membership.");
    }

    /// <summary>YES: confirms every membership of the number waiting for it, and returns those groups' names
    /// (none when nothing was waiting). Confirming is an opt-in: it lifts an opt-out.</summary>
    public static async Task<IReadOnlyList<string>> ConfirmPendingAsync(NpgsqlConnection connection, NpgsqlTransaction transaction,
        byte[] phoneIndex, CancellationToken cancellationToken)
    {
        var groups = (await connection.QueryAsync<string>(new CommandDefinition(
            """
            WITH confirmed AS (
                UPDATE memberships m SET status = 'active', joined_at = now()
                FROM subscribers s
                WHERE s.id = m.subscriber_id AND s.phone_index = @phoneIndex AND m.status = 'pending'
                RETURNING m.group_id)
            SELECT g.name FROM groups g WHERE g.id IN (SELECT group_id FROM confirmed) ORDER BY g.name
            """,
            new { phoneIndex }, transaction, cancellationToken: cancellationToken))).ToList();
        if (groups.Count > 0)
        {
            await OptInAsync(connection, transaction, phoneIndex, cancellationToken);
        }

        return groups;
    }

    /// <summary>STOP &lt;group&gt;: leaves that group on every channel of the number, and skips the group's alerts
    /// still waiting to be sent to it, unless another of its groups is also a target. No global opt-out.</summary>
    public static async Task LeaveGroupAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, byte[] phoneIndex,
        long groupId, CancellationToken cancellationToken) =>
        await connection.ExecuteAsync(new CommandDefinition(
            """
            UPDATE memberships m SET status = 'left'
            FROM subscribers s
            WHERE s.id = m.subscriber_id AND s.phone_index = @phoneIndex AND m.group_id = @groupId AND m.status <> 'left';
            UPDATE deliveries d SET state = 'skipped', updated_at = now(), completed_at = now()
            FROM alerts a
            WHERE a.id = d.alert_id AND d.state = 'pending'
              AND d.subscriber_id IN (SELECT id FROM subscribers WHERE phone_index = @phoneIndex)
              AND NOT EXISTS (SELECT 1 FROM memberships m
                              WHERE m.subscriber_id = d.subscriber_id AND m.status = 'active' AND m.group_id = ANY (a.target_groups));
            """,
            new { phoneIndex, groupId }, transaction, cancellationToken: cancellationToken));

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

    /// <summary>Whether the number has an active subscription on any channel and is not opted out.</summary>
    public static Task<bool> IsReachableAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, byte[] phoneIndex,
        CancellationToken cancellationToken) =>
        connection.ExecuteScalarAsync<bool>(new CommandDefinition(
            "SELECT EXISTS (SELECT 1 FROM reachable_subscribers WHERE phone_index = @phoneIndex)",
            new { phoneIndex }, transaction, cancellationToken: cancellationToken));

    public static Task<string?> LanguageAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, byte[] phoneIndex,
        CancellationToken cancellationToken) =>
        connection.QueryFirstOrDefaultAsync<string?>(new CommandDefinition(
            "SELECT language FROM subscribers WHERE phone_index = @phoneIndex ORDER BY updated_at DESC LIMIT 1",
            new { phoneIndex }, transaction, cancellationToken: cancellationToken));

    /// <summary>True at most once per interval per number: whether it may get the "we did not understand" hint
    /// now. The database's clock decides, so every web process agrees. Keyed by the number's
    /// <see cref="IndexPurpose.UnknownTextHint"/> index, which joins no other table.</summary>
    public static async Task<bool> TryTakeHintAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, byte[] hintIndex,
        TimeSpan interval, CancellationToken cancellationToken) =>
        await connection.ExecuteAsync(new CommandDefinition(
            """
            INSERT INTO unknown_text_hints (phone_index, last_hint_at) VALUES (@hintIndex, now())
            ON CONFLICT (phone_index) DO UPDATE SET last_hint_at = now()
            WHERE unknown_text_hints.last_hint_at <= now() - @interval
            """,
            new { hintIndex, interval }, transaction, cancellationToken: cancellationToken)) == 1;

    /// <summary>WhatsApp's 24-hour session window opens with the number's last WhatsApp message: the delivery claim
    /// reads it from the number's WhatsApp subscription (only WhatsApp deliveries look at it). Kept to the hour (rounded down: the window is taken to close
    /// up to an hour early, never late), so the time does not pin the subscriber to one inbound text or report.</summary>
    public static Task RecordWhatsAppInboundAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, byte[] phoneIndex,
        CancellationToken cancellationToken) =>
        connection.ExecuteAsync(new CommandDefinition(
            """
            UPDATE subscribers SET last_whatsapp_inbound_at = date_trunc('hour', now(), 'UTC')
            WHERE phone_index = @phoneIndex AND channel = 'whatsapp' AND last_whatsapp_inbound_at IS DISTINCT FROM date_trunc('hour', now(), 'UTC')
            """,
            new { phoneIndex }, transaction, cancellationToken: cancellationToken));
}
