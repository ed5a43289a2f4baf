using AlertNet.Hosting;
using Dapper;
using Microsoft.Extensions.Options;
using Npgsql;

namespace AlertNet.Privacy;

/// <summary>Key rotation while AlertNet keeps serving. The ring's current key writes; every key reads.
/// Rows are found by blind index and joined across tables by it (opt-outs, one message per person), so
/// the rule that keeps lookups and joins right during a rotation is: all rows of one number are under one
/// key at every commit. Two paths move a number to the current key, each in one transaction, under a
/// per-number advisory lock so they never interleave: an inbound text moves its sender's rows before
/// anything else (<see cref="MoveNumberAsync"/>), and <c>rotate-keys</c> walks subscribers, hotline reports
/// and organizer phones in batches, re-encrypting and moving each number found, then re-encrypts inbound
/// texts and SMS-alert drafts. Opt-outs of people no longer subscribed cannot be re-indexed (only their
/// index is kept): they stay under the older blind-index key, which stays in the ring for them.</summary>
public sealed class KeyRotation(NpgsqlDataSource db, PersonalDataProtector protector, ILogger<KeyRotation> logger)
{
    public const string Verb = "rotate-keys";

    /// <summary>Every table keyed by a number's blind index, in the order rows are locked.</summary>
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
        DELETE FROM unknown_text_hints h USING unnest(@olds, @news) AS m (old, new)
        WHERE h.phone_index = m.old AND EXISTS (SELECT 1 FROM unknown_text_hints x WHERE x.phone_index = m.new);
        UPDATE unknown_text_hints h SET phone_index = m.new FROM unnest(@olds, @news) AS m (old, new) WHERE h.phone_index = m.old;
        UPDATE inbound_messages i SET from_index = m.new FROM unnest(@olds, @news) AS m (old, new) WHERE i.from_index = m.old;
        UPDATE hotline_reports r SET reporter_index = m.new FROM unnest(@olds, @news) AS m (old, new) WHERE r.reporter_index = m.old;
        UPDATE organizer_phones p SET phone_index = m.new
        FROM unnest(@olds, @news) AS m (old, new)
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
        // Locks are taken in one order (the sorted indexes) by every transaction, so two never wait on each other.
        var lockKeys = numbers.Distinct(StringComparer.Ordinal).Select(n => protector.BlindIndex(n))
            .OrderBy(Convert.ToHexString, StringComparer.Ordinal).ToArray();
        var pairs = numbers.Distinct(StringComparer.Ordinal)
            .SelectMany(n => protector.OlderBlindIndexes(n).Select(old => (Old: old, New: protector.BlindIndex(n))))
            .ToList();
        await connection.ExecuteAsync(new CommandDefinition(MoveSql,
            new
            {
                lockKeys,
                olds = pairs.Select(p => p.Old).ToArray(),
                news = pairs.Select(p => p.New).ToArray(),
            },
            transaction, cancellationToken: cancellationToken, commandTimeout: 600));
    }

    /// <summary>Rows still under a key other than the current one, per table.</summary>
    public async Task<IReadOnlyDictionary<string, long>> RemainingAsync(CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        var rows = await connection.QueryAsync<(string Table, long Count)>(new CommandDefinition(
            """
            SELECT 'subscribers', count(*) FROM subscribers WHERE blind_index_key(phone_index) <> @k OR cipher_key(phone_cipher) <> @k
            UNION ALL SELECT 'hotline_reports', count(*) FROM hotline_reports
                WHERE blind_index_key(reporter_index) <> @k OR cipher_key(reporter_cipher) <> @k OR cipher_key(body_cipher) <> @k
            UNION ALL SELECT 'organizer_phones', count(*) FROM organizer_phones WHERE blind_index_key(phone_index) <> @k OR cipher_key(phone_cipher) <> @k
            UNION ALL SELECT 'pending_sms_alerts', count(*) FROM pending_sms_alerts WHERE cipher_key(body_cipher) <> @k
            UNION ALL SELECT 'inbound_messages.body', count(*) FROM inbound_messages WHERE cipher_key(body_cipher) <> @k
            UNION ALL SELECT 'inbound_messages.from', count(*) FROM inbound_messages WHERE blind_index_key(from_index) <> @k
            UNION ALL SELECT 'opt_outs', count(*) FROM opt_outs WHERE blind_index_key(phone_index) <> @k
            UNION ALL SELECT 'unknown_text_hints', count(*) FROM unknown_text_hints WHERE blind_index_key(phone_index) <> @k
            """,
            new { k = protector.CurrentKeyId }, cancellationToken: cancellationToken, commandTimeout: 600));
        return rows.ToDictionary(r => r.Table, r => r.Count);
    }

    /// <summary>Re-encrypts and re-indexes everything a number can be read from, in batches, while the
    /// service runs. Safe to run again (rows already under the current key are skipped) and to stop.</summary>
    public async Task<long> RotateAsync(int batchSize, CancellationToken cancellationToken)
    {
        var moved = await RotateNumbersAsync("subscribers", "phone_index", "phone_cipher", null, batchSize, cancellationToken)
            + await RotateNumbersAsync("hotline_reports", "reporter_index", "reporter_cipher", "body_cipher", batchSize, cancellationToken)
            + await RotateNumbersAsync("organizer_phones", "phone_index", "phone_cipher", null, batchSize, cancellationToken)
            + await ReencryptAsync("inbound_messages", batchSize, cancellationToken)
            + await ReencryptAsync("pending_sms_alerts", batchSize, cancellationToken);
        return moved;
    }

    /// <summary>One table whose rows hold a number's ciphertext (and maybe a text): read a batch, decrypt, then
    /// in one transaction move each number's rows in every table and write the new ciphertext.</summary>
    private async Task<long> RotateNumbersAsync(string table, string indexColumn, string cipherColumn, string? textColumn, int batchSize,
        CancellationToken cancellationToken)
    {
        // Table and column names are constants of this class, never input.
        var text = textColumn ?? "NULL::bytea";
        var select = $"""
            SELECT id, {indexColumn}, {cipherColumn}, {text} FROM {table}
            WHERE id > @after ORDER BY id LIMIT @batchSize
            """;
        // Only rows the move put under the current index (it leaves a row that would collide with another).
        var update = $"""
            UPDATE {table} t SET {cipherColumn} = c.cipher{(textColumn is null ? "" : $", {textColumn} = coalesce(c.text, t.{textColumn})")}
            FROM unnest(@ids, @ciphers, @texts, @indexes) AS c (id, cipher, text, index)
            WHERE t.id = c.id AND t.{indexColumn} = c.index
            """;
        var current = protector.CurrentKeyId;
        long moved = 0;
        long after = 0;
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        while (true)
        {
            var rows = (await connection.QueryAsync<(long Id, byte[] Index, byte[] Cipher, byte[]? Text)>(new CommandDefinition(
                select, new { after, batchSize }, cancellationToken: cancellationToken))).ToList();
            if (rows.Count == 0)
            {
                return moved;
            }

            after = rows[^1].Id;
            var due = rows.Where(r => PersonalDataProtector.KeyIdOfIndex(r.Index) != current || PersonalDataProtector.KeyIdOfCipher(r.Cipher) != current
                                      || (r.Text is not null && PersonalDataProtector.KeyIdOfCipher(r.Text) != current))
                .Select(r => (r.Id, Number: protector.Decrypt(r.Cipher), r.Text))
                .ToList();
            if (due.Count == 0)
            {
                continue;
            }

            await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
            await MoveAsync(connection, transaction, protector, due.Select(d => d.Number).ToList(), cancellationToken);
            await connection.ExecuteAsync(new CommandDefinition(update,
                new
                {
                    ids = due.Select(d => d.Id).ToArray(),
                    ciphers = due.Select(d => protector.Encrypt(d.Number)).ToArray(),
                    texts = due.Select(d => d.Text is null ? null : protector.Encrypt(protector.Decrypt(d.Text))).ToArray(),
                    indexes = due.Select(d => protector.BlindIndex(d.Number)).ToArray(),
                },
                transaction, cancellationToken: cancellationToken));
            await transaction.CommitAsync(cancellationToken);
            moved += due.Count;
            logger.LogDebug("Key rotation: {Table} up to id {Id} under key {KeyId}", table, after, current);
        }
    }

    /// <summary>Texts encrypted under an older key, with no number to move: re-encrypted in place.</summary>
    private async Task<long> ReencryptAsync(string table, int batchSize, CancellationToken cancellationToken)
    {
        var current = protector.CurrentKeyId;
        long done = 0;
        long after = 0;
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        while (true)
        {
            var rows = (await connection.QueryAsync<(long Id, byte[] Text)>(new CommandDefinition(
                $"""
                SELECT id, body_cipher FROM {table}
                WHERE id > @after AND body_cipher IS NOT NULL AND cipher_key(body_cipher) <> @current
                ORDER BY id LIMIT @batchSize
                """,
                new { after, current, batchSize }, cancellationToken: cancellationToken))).ToList();
            if (rows.Count == 0)
            {
                return done;
            }

            after = rows[^1].Id;
            done += await connection.ExecuteAsync(new CommandDefinition(
                $"""
                UPDATE {table} t SET body_cipher = c.text FROM unnest(@ids, @texts) AS c (id, text)
                WHERE t.id = c.id AND cipher_key(t.body_cipher) <> @current
                """,
                new
                {
                    ids = rows.Select(r => r.Id).ToArray(),
                    texts = rows.Select(r => protector.Encrypt(protector.Decrypt(r.Text))).ToArray(),
                    current,
                },
                cancellationToken: cancellationToken));
        }
    }

    /// <summary><c>rotate-keys [--batch-size N]</c>: run after every process has been restarted with the new
    /// key ring (README "Key rotation"). Prints what is left under older keys; exits 1 if a number's data
    /// is left (run it again), 0 when only opt-outs, hints and inbound texts of unsubscribed numbers remain.</summary>
    public static async Task<int> RunAsync(IServiceProvider services, CommandLineVerb verb, TextWriter output, TextWriter errors)
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
            await output.WriteLineAsync($"Only key {protector.CurrentKeyId} is configured: nothing to rotate.");
        }

        var older = protector.OlderKeyIds.Where(id => !protector.CanDecryptWith(id)).ToList();
        await audit.RecordAsync("command-line", "keys.rotate.start", $"key:{protector.CurrentKeyId}", null, CancellationToken.None);
        var moved = await rotation.RotateAsync(batchSize, CancellationToken.None);
        var remaining = await rotation.RemainingAsync(CancellationToken.None);
        await audit.RecordAsync("command-line", "keys.rotate", $"key:{protector.CurrentKeyId}", new { moved, remaining }, CancellationToken.None);

        await output.WriteLineAsync($"Moved {moved} rows to key {protector.CurrentKeyId}. Left under older keys:");
        foreach (var (table, count) in remaining)
        {
            await output.WriteLineAsync($"  {table,-24} {count}");
        }

        string[] numberTables = ["subscribers", "hotline_reports", "organizer_phones", "pending_sms_alerts", "inbound_messages.body"];
        if (numberTables.Any(t => remaining[t] > 0))
        {
            await errors.WriteLineAsync(older.Count > 0
                ? $"Some rows are under keys {string.Join(", ", older)} whose EncryptionKey is not configured: restore it and run again."
                : "Rows were written under an older key during the run (a process still on the old ring?): run rotate-keys again.");
            return 1;
        }

        await output.WriteLineAsync(
            "Done. The older EncryptionKeys may be removed from AlertNet:OldKeys. Keep their BlindIndexKey while opt-outs are left " +
            "under them (people no longer subscribed: their index cannot be recomputed), so those numbers are never texted again.");
        return 0;
    }
}
