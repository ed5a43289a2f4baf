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

/// <summary>The registered organizer phones, found by their own purpose-specific index (never the subscribers' blind
/// index, so a dump does not say which organizer is also a subscriber); the number itself is kept only as
/// ciphertext so the command line can show it masked.</summary>
public sealed partial class OrganizerPhones(NpgsqlDataSource db, PersonalDataProtector protector)
{
    public abstract record RegisterResult
    {
        public sealed record Registered(OrganizerPhone Phone) : RegisterResult;

        public sealed record Rejected(string Reason) : RegisterResult;
    }

    /// <summary>Names appear in the audit log and as an alert's creator: letters, digits, dot, dash and underscore.</summary>
    public static bool IsValidName(string? name) => name is not null && NamePattern().IsMatch(name);

    /// <summary>What a phone's row may hold under the current key: its organizer-phone index, or, for a phone
    /// registered before migration 0020 that rotate-keys has not re-indexed yet, the shared blind index.</summary>
    public static byte[][] LookupIndexes(PersonalDataProtector protector, string e164) =>
        [protector.PurposeIndex(IndexPurpose.OrganizerPhone, e164), protector.BlindIndex(e164)];

    public static Task<OrganizerPhone?> FindAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, PersonalDataProtector protector,
        string e164, CancellationToken cancellationToken) =>
        connection.QueryFirstOrDefaultAsync<OrganizerPhone?>(new CommandDefinition(
            "SELECT id, name, language FROM organizer_phones WHERE phone_index = ANY (@indexes) ORDER BY id LIMIT 1",
            new { indexes = LookupIndexes(protector, e164) }, transaction, cancellationToken: cancellationToken));

    public async Task<RegisterResult> RegisterAsync(string e164, string name, string language, CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        await MoveToCurrentKeyAsync(connection, e164, cancellationToken);
        var indexes = LookupIndexes(protector, e164);
        var taken = await connection.QuerySingleOrDefaultAsync<string?>(new CommandDefinition(
            """
            SELECT name FROM organizer_phones WHERE phone_index = ANY (@indexes) OR name = @name
            ORDER BY phone_index = ANY (@indexes) DESC LIMIT 1
            """,
            new { indexes, name }, cancellationToken: cancellationToken));
        if (taken is not null)
        {
            return new RegisterResult.Rejected(taken == name
                ? $"The name {name} is already registered; remove it first (--remove --name {name})."
                : $"That phone is already registered as {taken}; remove it first (--remove --name {taken}).");
        }

        try
        {
            var id = await RowIds.NextAsync(connection, null, "organizer_phones", cancellationToken);
            await connection.ExecuteAsync(new CommandDefinition(
                """
                INSERT INTO organizer_phones (id, name, phone_index, phone_cipher, language) OVERRIDING SYSTEM VALUE
                VALUES (@id, @name, @phoneIndex, @phoneCipher, @language)
                """,
                new { id, name, phoneIndex = indexes[0], phoneCipher = protector.Encrypt(e164, CipherPlaces.OrganizerPhone(id)), language },
                cancellationToken: cancellationToken));
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

        var removed = await connection.QuerySingleOrDefaultAsync<(long Id, string Name, byte[] PhoneCipher)?>(new CommandDefinition(
            """
            DELETE FROM organizer_phones
            WHERE (@indexes::bytea[] IS NULL OR phone_index = ANY (@indexes)) AND (@name::text IS NULL OR name = @name)
              AND num_nonnulls(@indexes::bytea[], @name::text) > 0
            RETURNING id, name, phone_cipher
            """,
            new { indexes = e164 is null ? null : LookupIndexes(protector, e164), name }, cancellationToken: cancellationToken));
        return removed is { } row
            ? (row.Name, PersonalDataProtector.Mask(protector.Decrypt(row.PhoneCipher, CipherPlaces.OrganizerPhone(row.Id))))
            : null;
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
