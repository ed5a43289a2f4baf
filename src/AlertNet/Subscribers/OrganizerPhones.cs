using System.Text.RegularExpressions;
using AlertNet.Privacy;
using Dapper;
using Npgsql;

namespace AlertNet.Subscribers;

/// <summary>A phone allowed to send organizer commands by SMS (ALERT, then YES with the code).</summary>
public sealed record OrganizerPhone(long Id, string Name, string Language)
{
    /// <summary>Who an alert from this phone is recorded as: <c>sms:&lt;name&gt;</c>.</summary>
    public string Actor => "sms:" + Name;
}

/// <summary>The registered organizer phones, found by blind index; the number itself is kept only as ciphertext
/// so the command line can show it masked.</summary>
public sealed partial class OrganizerPhones(NpgsqlDataSource db, PersonalDataProtector protector)
{
    public abstract record RegisterResult
    {
        public sealed record Registered(OrganizerPhone Phone) : RegisterResult;

        public sealed record Rejected(string Reason) : RegisterResult;
    }

    /// <summary>Names appear in the audit log and as an alert's creator: letters, digits, dot, dash and underscore.</summary>
    public static bool IsValidName(string? name) => name is not null && NamePattern().IsMatch(name);

    public static Task<OrganizerPhone?> FindAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, byte[] phoneIndex,
        CancellationToken cancellationToken) =>
        connection.QuerySingleOrDefaultAsync<OrganizerPhone?>(new CommandDefinition(
            "SELECT id, name, language FROM organizer_phones WHERE phone_index = @phoneIndex",
            new { phoneIndex }, transaction, cancellationToken: cancellationToken));

    public async Task<RegisterResult> RegisterAsync(string e164, string name, string language, CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        await MoveToCurrentKeyAsync(connection, e164, cancellationToken);
        var phoneIndex = protector.BlindIndex(e164);
        var taken = await connection.QuerySingleOrDefaultAsync<string?>(new CommandDefinition(
            "SELECT name FROM organizer_phones WHERE phone_index = @phoneIndex OR name = @name ORDER BY phone_index = @phoneIndex DESC LIMIT 1",
            new { phoneIndex, name }, cancellationToken: cancellationToken));
        if (taken is not null)
        {
            return new RegisterResult.Rejected(taken == name
                ? $"The name {name} is already registered; remove it first (--remove --name {name})."
                : $"That phone is already registered as {taken}; remove it first (--remove --name {taken}).");
        }

        try
        {
            var id = await connection.ExecuteScalarAsync<long>(new CommandDefinition(
                """
                INSERT INTO organizer_phones (name, phone_index, phone_cipher, language)
                VALUES (@name, @phoneIndex, @phoneCipher, @language)
                RETURNING id
                """,
                new { name, phoneIndex, phoneCipher = protector.Encrypt(e164), language }, cancellationToken: cancellationToken));
            return new RegisterResult.Registered(new OrganizerPhone(id, name, language));
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.UniqueViolation)
        {
            return new RegisterResult.Rejected("That phone or name was registered a moment ago.");
        }
    }

    /// <summary>Removes the phone registered under the number and/or the name (both must match when both are given);
    /// its pending alerts go with it.
    /// Returns the name and the masked number, or null when nothing matched.</summary>
    public async Task<(string Name, string MaskedPhone)?> RemoveAsync(string? e164, string? name, CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        if (e164 is not null)
        {
            await MoveToCurrentKeyAsync(connection, e164, cancellationToken);
        }

        var removed = await connection.QuerySingleOrDefaultAsync<(string Name, byte[] PhoneCipher)?>(new CommandDefinition(
            """
            DELETE FROM organizer_phones
            WHERE (@phoneIndex::bytea IS NULL OR phone_index = @phoneIndex) AND (@name::text IS NULL OR name = @name)
              AND num_nonnulls(@phoneIndex::bytea, @name::text) > 0
            RETURNING name, phone_cipher
            """,
            new { phoneIndex = e164 is null ? null : protector.BlindIndex(e164), name }, cancellationToken: cancellationToken));
        return removed is { } row ? (row.Name, PersonalDataProtector.Mask(protector.Decrypt(row.PhoneCipher))) : null;
    }

    private async Task MoveToCurrentKeyAsync(NpgsqlConnection connection, string e164, CancellationToken cancellationToken)
    {
        if (protector.HasOlderKeys)
        {
            await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
            await KeyRotation.MoveNumberAsync(connection, transaction, protector, e164, cancellationToken);
            await transaction.CommitAsync(cancellationToken);
        }
    }

    [GeneratedRegex(@"^[\p{L}\p{N}._-]{1,60}$")]
    private static partial Regex NamePattern();
}
