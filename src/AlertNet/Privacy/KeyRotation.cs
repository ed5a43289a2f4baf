using System.Security.Cryptography;
using Dapper;
using Microsoft.Extensions.Options;
using Npgsql;

namespace AlertNet.Privacy;

/// <summary>A column of AES-GCM ciphertexts, one per row, bound to the row's id.</summary>
public sealed record EncryptedColumn(string Table, string Column, Func<long, CipherPlace> Place)
{
    public string Name => $"{Table}.{Column}";
}

/// <summary>Key rotation while AlertNet keeps serving, and the move of rows written by earlier versions into the current
/// formats. The ring's current key writes; every key reads. Rows are found by index and joined across tables by the
/// subscriber blind index (opt-outs, one message per person), so the rule that keeps lookups and joins right during a
/// rotation is: all rows of one number are under one key at every commit. Two paths move a number's indexes to the
/// current key, each in one transaction, under a per-number advisory lock so they never interleave: an inbound text
/// moves its sender's rows before anything else (<see cref="MoveNumberAsync"/>), and <c>rotate-keys</c> walks
/// subscribers and organizer phones in batches, moving each number found. Then it re-encrypts every encrypted column
/// (<see cref="EncryptedColumns"/>: ciphertexts are bound to their row id, which no move changes) and the
/// data-protection key ring, and clears what earlier versions kept in clear. Opt-outs of people no longer subscribed
/// cannot be re-indexed (only their index is kept): they stay under the older blind-index key, which stays in the
/// ring for them.</summary>
public sealed class KeyRotation(NpgsqlDataSource db, PersonalDataProtector protector, ILogger<KeyRotation> logger)
{
    public const string Verb = "rotate-keys";

    public const string DataProtectionKeyRing = "data_protection_keys.xml";
    public const string InboundLegacy = "inbound_messages.plain";
    public const string HotlineReporterIndex = "hotline_reports.reporter_index";

    /// <summary>Every column of ciphertexts. Anything encrypted later is added here, or a test fails.</summary>
    public static readonly EncryptedColumn[] EncryptedColumns =
    [
        new("subscribers", "phone_cipher", CipherPlaces.SubscriberPhone),
        new("hotline_reports", "reporter_cipher", CipherPlaces.HotlineReporter),
        new("hotline_reports", "body_cipher", CipherPlaces.HotlineText),
        new("organizer_phones", "phone_cipher", CipherPlaces.OrganizerPhone),
        new("pending_sms_alerts", "body_cipher", CipherPlaces.SmsAlertDraft),
        new("inbound_messages", "body_cipher", CipherPlaces.InboundText),
        new("users", "totp_secret_cipher", CipherPlaces.TotpSecret),
        new("outbound_replies", "to_cipher", CipherPlaces.ReplyNumber),
        new("outbound_replies", "body_cipher", CipherPlaces.ReplyText),
    ];

    /// <summary>Per-number indexes that must all be under the current key (and purpose) for lookups to find every row.</summary>
    private static readonly (string Name, string Table, string Due)[] NumberIndexes =
    [
        ("subscribers.phone_index", "subscribers", "blind_index_key(phone_index) <> @k"),
        ("organizer_phones.phone_index", "organizer_phones",
            $"NOT (index_purpose(phone_index) = {(int)IndexPurpose.OrganizerPhone} AND blind_index_key(phone_index) = @k)"),
    ];

    /// <summary>Every table keyed by a number's index, in the order rows are locked: the subscriber blind index (subscribers,
    /// opt-outs), and the purpose-specific indexes of hints and organizer phones.</summary>
    private const string MoveSql =
        """
        SELECT pg_advisory_xact_lock(hashtextextended(encode(k, 'hex'), 0)) FROM unnest(@lockKeys) WITH ORDINALITY AS l (k, n) ORDER BY n;
        UPDATE subscribers s SET phone_index = m.new, updated_at = now()
        FROM unnest(@olds, @news) AS m (old, new)
        WHERE s.phone_index = m.old
          AND NOT EXISTS (SELECT 1 FROM subscribers y WHERE y.channel = s.channel AND y.phone_index = m.new);
        DELETE FROM opt_outs o USING unnest(@olds, @news) AS m (old, new)
        WHERE o.phone_index = m.old AND EXISTS (SELECT 1 FROM opt_outs x WHERE x.phone_index = m.new);
        UPDATE opt_outs o SET phone_index = m.new FROM unnest(@olds, @news) AS m (old, new) WHERE o.phone_index = m.old;
        DELETE FROM unknown_text_hints h USING unnest(@hintOlds, @hintNews) AS m (old, new)
        WHERE h.phone_index = m.old AND EXISTS (SELECT 1 FROM unknown_text_hints x WHERE x.phone_index = m.new);
        UPDATE unknown_text_hints h SET phone_index = m.new FROM unnest(@hintOlds, @hintNews) AS m (old, new) WHERE h.phone_index = m.old;
        UPDATE organizer_phones p SET phone_index = m.new
        FROM unnest(@organizerOlds, @organizerNews) AS m (old, new)
        WHERE p.phone_index = m.old AND NOT EXISTS (SELECT 1 FROM organizer_phones x WHERE x.phone_index = m.new);
        """;

    /// <summary>Moves every row of a number that is under an older key to the current key's index, in the
    /// caller's transaction; after it, lookups by the current index find all of the number's rows. A no-op
    /// (no statement) when the ring has one key.</summary>
    public static async Task MoveNumberAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, PersonalDataProtector protector,
        string e164, CancellationToken cancellationToken)
    {
        if (protector.HasOlderKeys)
        {
            await MoveAsync(connection, transaction, protector, [e164], cancellationToken);
        }
    }

    private static async Task MoveAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, PersonalDataProtector protector,
        IReadOnlyCollection<string> numbers, CancellationToken cancellationToken)
    {
        var distinct = numbers.Distinct(StringComparer.Ordinal).ToList();
        // Locks are taken in one order (the sorted indexes) by every transaction, so two never wait on each other.
        var lockKeys = distinct.Select(n => protector.BlindIndex(n)).OrderBy(Convert.ToHexString, StringComparer.Ordinal).ToArray();
        var subscriber = distinct.SelectMany(n => protector.OlderBlindIndexes(n).Select(old => (Old: old, New: protector.BlindIndex(n)))).ToList();
        var hints = distinct.SelectMany(n => protector.OlderPurposeIndexes(IndexPurpose.UnknownTextHint, n)
            .Select(old => (Old: old, New: protector.PurposeIndex(IndexPurpose.UnknownTextHint, n)))).ToList();
        // An organizer phone registered before purpose indexes existed holds the subscriber blind index, of any key.
        var organizers = distinct.SelectMany(n => protector.OlderPurposeIndexes(IndexPurpose.OrganizerPhone, n)
            .Concat(protector.OlderBlindIndexes(n)).Append(protector.BlindIndex(n))
            .Select(old => (Old: old, New: protector.PurposeIndex(IndexPurpose.OrganizerPhone, n)))).ToList();
        await connection.ExecuteAsync(new CommandDefinition(MoveSql,
            new
            {
                lockKeys,
                olds = subscriber.Select(p => p.Old).ToArray(),
                news = subscriber.Select(p => p.New).ToArray(),
                hintOlds = hints.Select(p => p.Old).ToArray(),
                hintNews = hints.Select(p => p.New).ToArray(),
                organizerOlds = organizers.Select(p => p.Old).ToArray(),
                organizerNews = organizers.Select(p => p.New).ToArray(),
            },
            transaction, cancellationToken: cancellationToken, commandTimeout: 600));
    }

    /// <summary>What is not yet under the current key and formats, per column: ciphertexts, indexes, and values earlier
    /// versions kept in clear.</summary>
    public async Task<IReadOnlyDictionary<string, long>> RemainingAsync(CancellationToken cancellationToken)
    {
        var counts = EncryptedColumns.Select(c =>
                $"SELECT '{c.Name}', count(*) FROM {c.Table} WHERE {c.Column} IS NOT NULL AND NOT {Current(c.Column)}")
            .Concat(NumberIndexes.Select(i => $"SELECT '{i.Name}', count(*) FROM {i.Table} WHERE {i.Due}"))
            .Append("SELECT 'opt_outs.phone_index', count(*) FROM opt_outs WHERE blind_index_key(phone_index) <> @k")
            .Append("SELECT 'unknown_text_hints.phone_index', count(*) FROM unknown_text_hints " +
                    $"WHERE NOT (index_purpose(phone_index) = {(int)IndexPurpose.UnknownTextHint} AND blind_index_key(phone_index) = @k)")
            .Append("SELECT 'inbound_messages.sid_hash', count(*) FROM inbound_messages WHERE blind_index_key(sid_hash) <> @k")
            .Append($"SELECT '{InboundLegacy}', count(*) FROM inbound_messages " +
                    "WHERE message_sid IS NOT NULL OR from_index IS NOT NULL OR keyword IS NOT NULL")
            .Append($"SELECT '{HotlineReporterIndex}', count(*) FROM hotline_reports WHERE reporter_index IS NOT NULL");
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        var rows = await connection.QueryAsync<(string Name, long Count)>(new CommandDefinition(
            string.Join("\nUNION ALL ", counts), new { k = protector.CurrentKeyId }, cancellationToken: cancellationToken, commandTimeout: 600));
        var remaining = rows.ToDictionary(r => r.Name, r => r.Count);
        var keyRing = await connection.QueryAsync<string>(new CommandDefinition(
            "SELECT xml FROM data_protection_keys", cancellationToken: cancellationToken));
        remaining[DataProtectionKeyRing] = keyRing.Count(xml => Infrastructure.Auth.DataProtectionKeys.NeedsRotation(xml, protector));
        return remaining;
    }

    /// <summary>Re-indexes, re-encrypts and cleans everything, in batches, while the service runs, and returns how many
    /// values it changed per column. Safe to run again (what is current is skipped) and to stop.</summary>
    public async Task<IReadOnlyDictionary<string, long>> RotateAsync(int batchSize, CancellationToken cancellationToken)
    {
        var done = new Dictionary<string, long>();
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        foreach (var (name, table, due) in NumberIndexes)
        {
            done[name] = await ReindexAsync(connection, name, table, due, batchSize, cancellationToken);
        }

        foreach (var column in EncryptedColumns)
        {
            done[column.Name] = await ReencryptAsync(connection, column, batchSize, cancellationToken);
        }

        done[DataProtectionKeyRing] = await ReencryptKeyRingAsync(connection, cancellationToken);
        done[InboundLegacy] = await HashInboundSidsAsync(connection, batchSize, cancellationToken);
        done[HotlineReporterIndex] = await InBatchesAsync(connection,
            """
            UPDATE hotline_reports SET reporter_index = NULL
            WHERE id IN (SELECT id FROM hotline_reports WHERE reporter_index IS NOT NULL LIMIT @batchSize)
            """, batchSize, cancellationToken);
        // A hint under an older key only holds back a second "we did not understand" within a day: not worth a key.
        done["unknown_text_hints.phone_index"] = await InBatchesAsync(connection,
            $"""
            DELETE FROM unknown_text_hints WHERE phone_index IN (
                SELECT phone_index FROM unknown_text_hints
                WHERE NOT (index_purpose(phone_index) = {(int)IndexPurpose.UnknownTextHint} AND blind_index_key(phone_index) = @k)
                LIMIT @batchSize)
            """, batchSize, cancellationToken);
        return done;
    }

    /// <summary>A table with a number's ciphertext and index: read a batch whose index is due, decrypt, and in one
    /// transaction move each number's rows in every table to the current key's indexes.</summary>
    private async Task<long> ReindexAsync(NpgsqlConnection connection, string name, string table, string due, int batchSize,
        CancellationToken cancellationToken)
    {
        var column = EncryptedColumns.Single(c => c.Table == table);
        // Table, column and condition are constants of this class, never input.
        var select = $"SELECT id, {column.Column} FROM {table} WHERE id > @after AND {due} ORDER BY id LIMIT @batchSize";
        long moved = 0;
        long after = 0;
        while (true)
        {
            var rows = (await connection.QueryAsync<(long Id, byte[] Cipher)>(new CommandDefinition(
                select, new { after, batchSize, k = protector.CurrentKeyId }, cancellationToken: cancellationToken))).ToList();
            if (rows.Count == 0)
            {
                return moved;
            }

            after = rows[^1].Id;
            var numbers = rows.Select(r => TryDecrypt(r.Cipher, column.Place(r.Id), column.Name, r.Id)).OfType<string>().ToList();
            if (numbers.Count == 0)
            {
                continue;
            }

            await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
            await MoveAsync(connection, transaction, protector, numbers, cancellationToken);
            await transaction.CommitAsync(cancellationToken);
            moved += numbers.Count;
            logger.LogDebug("Key rotation: {Name} re-indexed up to id {Id} under key {KeyId}", name, after, protector.CurrentKeyId);
        }
    }

    /// <summary>Ciphertexts not under the current key and format, re-encrypted for the same place. Each is replaced only if
    /// the row still holds the value read, so a value written meanwhile (already current) is never overwritten.</summary>
    private async Task<long> ReencryptAsync(NpgsqlConnection connection, EncryptedColumn column, int batchSize, CancellationToken cancellationToken)
    {
        var (table, name) = (column.Table, column.Column);
        var select = $"""
            SELECT id, {name} FROM {table}
            WHERE id > @after AND {name} IS NOT NULL AND NOT {Current(name)}
            ORDER BY id LIMIT @batchSize
            """;
        var update = $"""
            UPDATE {table} t SET {name} = c.new FROM unnest(@ids, @olds, @news) AS c (id, old, new)
            WHERE t.id = c.id AND t.{name} = c.old
            """;
        long done = 0;
        long after = 0;
        while (true)
        {
            var rows = (await connection.QueryAsync<(long Id, byte[] Cipher)>(new CommandDefinition(
                select, new { after, batchSize, k = protector.CurrentKeyId }, cancellationToken: cancellationToken))).ToList();
            if (rows.Count == 0)
            {
                return done;
            }

            after = rows[^1].Id;
            var rewritten = rows
                .Select(r => (r.Id, Old: r.Cipher, Plain: TryDecrypt(r.Cipher, column.Place(r.Id), column.Name, r.Id)))
                .Where(r => r.Plain is not null)
                .Select(r => (r.Id, r.Old, New: protector.Encrypt(r.Plain!, column.Place(r.Id))))
                .ToList();
            done += await connection.ExecuteAsync(new CommandDefinition(update,
                new { ids = rewritten.Select(r => r.Id).ToArray(), olds = rewritten.Select(r => r.Old).ToArray(), news = rewritten.Select(r => r.New).ToArray() },
                cancellationToken: cancellationToken));
        }
    }

    /// <summary>The data-protection keys (a handful of rows) that sign sessions and form tokens.</summary>
    private async Task<long> ReencryptKeyRingAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        var rows = await connection.QueryAsync<(long Id, string Xml)>(new CommandDefinition(
            "SELECT id, xml FROM data_protection_keys ORDER BY id", cancellationToken: cancellationToken));
        long done = 0;
        foreach (var (id, xml) in rows)
        {
            string? rewritten;
            try
            {
                rewritten = Infrastructure.Auth.DataProtectionKeys.Reencrypt(xml, protector);
            }
            catch (CryptographicException)
            {
                logger.LogWarning("Key rotation: data-protection key row {Id} does not decrypt with the key ring; left as it is", id);
                continue;
            }

            if (rewritten is not null)
            {
                done += await connection.ExecuteAsync(new CommandDefinition(
                    "UPDATE data_protection_keys SET xml = @rewritten WHERE id = @id AND xml = @xml",
                    new { id, xml, rewritten }, cancellationToken: cancellationToken));
            }
        }

        return done;
    }

    /// <summary>Inbound rows written before migration 0020 (or by a process still on that version during the upgrade) hold
    /// the raw MessageSid, the sender's blind index and the keyword: the SID becomes its keyed hash, the rest goes.</summary>
    private async Task<long> HashInboundSidsAsync(NpgsqlConnection connection, int batchSize, CancellationToken cancellationToken)
    {
        long done = 0;
        long after = 0;
        while (true)
        {
            var rows = (await connection.QueryAsync<(long Id, string? Sid)>(new CommandDefinition(
                """
                SELECT id, message_sid FROM inbound_messages
                WHERE id > @after AND (message_sid IS NOT NULL OR from_index IS NOT NULL OR keyword IS NOT NULL)
                ORDER BY id LIMIT @batchSize
                """,
                new { after, batchSize }, cancellationToken: cancellationToken))).ToList();
            if (rows.Count == 0)
            {
                return done;
            }

            after = rows[^1].Id;
            // Deletion at the provider: these legacy rows' SIDs are seen here for the last time. The lead's deletion
            // queue takes them here, before they are replaced by their hash.
            done += await connection.ExecuteAsync(new CommandDefinition(
                """
                UPDATE inbound_messages t
                SET sid_hash = coalesce(t.sid_hash, CASE WHEN NOT EXISTS (SELECT 1 FROM inbound_messages x WHERE x.sid_hash = c.hash) THEN c.hash END),
                    message_sid = NULL, from_index = NULL, keyword = NULL
                FROM unnest(@ids, @hashes) AS c (id, hash)
                WHERE t.id = c.id
                """,
                new
                {
                    ids = rows.Select(r => r.Id).ToArray(),
                    hashes = rows.Select(r => r.Sid is null ? null : protector.PurposeIndex(IndexPurpose.InboundMessageSid, r.Sid)).ToArray(),
                },
                cancellationToken: cancellationToken));
        }
    }

    private async Task<long> InBatchesAsync(NpgsqlConnection connection, string sql, int batchSize, CancellationToken cancellationToken)
    {
        long done = 0;
        int count;
        do
        {
            count = await connection.ExecuteAsync(new CommandDefinition(sql, new { batchSize, k = protector.CurrentKeyId },
                cancellationToken: cancellationToken, commandTimeout: 600));
            done += count;
        }
        while (count > 0);

        return done;
    }

    /// <summary>Null (and a warning without the value) for a ciphertext the ring cannot read: under a key whose EncryptionKey
    /// is not configured, or not made for this place (tampered with, or moved from another row). It stays, and is counted
    /// as left.</summary>
    private string? TryDecrypt(byte[] cipher, CipherPlace place, string name, long id)
    {
        try
        {
            return protector.Decrypt(cipher, place);
        }
        catch (CryptographicException)
        {
            logger.LogWarning("Key rotation: {Column} of row {Id} does not decrypt with the key ring; left as it is", name, id);
            return null;
        }
    }

    private static string Current(string column) => $"(cipher_format({column}) = {PersonalDataProtector.CurrentFormat} AND cipher_key({column}) = @k)";

    /// <summary><c>rotate-keys [--batch-size N]</c>: run after every process has been restarted with the new key ring, and
    /// once after upgrading to a version with new formats (README "Key rotation"). Prints per column what it changed and
    /// what is left; exits 1 if anything but opt-outs and SID hashes (kept under older blind-index keys) is left (run it
    /// again), 0 otherwise. Only then does it say that the older encryption keys may be removed.</summary>
    public static async Task<int> RunAsync(IServiceProvider services, Hosting.CommandLineVerb verb, TextWriter output, TextWriter errors)
    {
        var rotation = services.GetRequiredService<KeyRotation>();
        var protector = services.GetRequiredService<PersonalDataProtector>();
        var audit = services.GetRequiredService<AuditLog>();
        var batchSize = services.GetRequiredService<IOptions<PrivacyOptions>>().Value.BatchSize;
        if (verb.Option("batch-size") is { } given && (!int.TryParse(given, out batchSize) || batchSize < 1))
        {
            await errors.WriteLineAsync("usage: rotate-keys [--batch-size N]   (N >= 1)");
            return 2;
        }

        if (!protector.HasOlderKeys)
        {
            await output.WriteLineAsync($"Only key {protector.CurrentKeyId} is configured: moving rows of earlier versions to the current formats.");
        }

        await audit.RecordAsync("command-line", "keys.rotate.start", $"key:{protector.CurrentKeyId}", null, CancellationToken.None);
        var done = await rotation.RotateAsync(batchSize, CancellationToken.None);
        var remaining = await rotation.RemainingAsync(CancellationToken.None);
        await audit.RecordAsync("command-line", "keys.rotate", $"key:{protector.CurrentKeyId}", new { done, remaining }, CancellationToken.None);

        await output.WriteLineAsync($"Key {protector.CurrentKeyId}, ciphertext format {PersonalDataProtector.CurrentFormat}:");
        await output.WriteLineAsync($"  {"column",-36} {"changed",8} {"left",8}");
        foreach (var (name, left) in remaining.OrderBy(r => r.Key, StringComparer.Ordinal))
        {
            await output.WriteLineAsync($"  {name,-36} {done.GetValueOrDefault(name),8} {left,8}");
        }

        // Opt-outs of people no longer subscribed cannot be re-indexed; a SID hash only recognizes a retry of an older text.
        string[] mayStay = ["opt_outs.phone_index", "inbound_messages.sid_hash"];
        if (remaining.Any(r => r.Value > 0 && !mayStay.Contains(r.Key)))
        {
            var unreadable = protector.OlderKeyIds.Where(id => !protector.CanDecryptWith(id)).ToList();
            await errors.WriteLineAsync(unreadable.Count > 0
                ? $"Some rows may be under keys {string.Join(", ", unreadable)} whose EncryptionKey is not configured: restore it and run again."
                : "Rows were left (written during the run by a process still on the old ring or version, or not readable: see the warnings): run rotate-keys again.");
            return 1;
        }

        if (!protector.HasOlderKeys)
        {
            await output.WriteLineAsync($"Done: everything is under key {protector.CurrentKeyId} in the current formats.");
            return 0;
        }

        var keep = mayStay.Where(n => remaining[n] > 0).ToList();
        await output.WriteLineAsync(
            "Done: nothing encrypted is left under an older key. The older EncryptionKeys may be removed from AlertNet:OldKeys. " +
            (keep.Count == 0
                ? "No index is left under them either: their BlindIndexKeys may go too."
                : $"Keep their BlindIndexKey while {string.Join(" and ", keep)} are left under them (opt-outs of people no longer " +
                  "subscribed: their index cannot be recomputed, and with the key kept they are never texted again)."));
        return 0;
    }
}
