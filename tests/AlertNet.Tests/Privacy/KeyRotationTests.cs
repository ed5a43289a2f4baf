using System.Security.Cryptography;
using AlertNet.Infrastructure.Auth;
using AlertNet.Privacy;
using AlertNet.Tests.Support;
using Dapper;

namespace AlertNet.Tests.Privacy;

/// <summary>Rotating the keys while AlertNet serves: data written under the original key (0) is read, found
/// and moved to the new key (1); JOIN and STOP keep working before and during the rotate-keys run; nobody
/// is duplicated, lost, or texted after STOP.</summary>
public sealed class KeyRotationTests : IAsyncLifetime
{
    private static readonly string[] Seeded = AlertNetTestApp.Numbers(1500, first: 4000);
    private const string ForgottenOptOut = "+12025559998"; // opted out, subscriber data purged; never texts again
    private const string ReturningOptOut = "+12025559999"; // the same, but texts during the rotation

    private readonly byte[] _oldEncryption = RandomNumberGenerator.GetBytes(32);
    private readonly byte[] _oldIndex = RandomNumberGenerator.GetBytes(32);
    private AlertNetTestApp _app = null!;

    public async Task InitializeAsync() => _app = await AlertNetTestApp.StartAsync(overrides: new Dictionary<string, string?>
    {
        ["AlertNet:KeyId"] = "1",
        ["AlertNet:OldKeys:0:EncryptionKey"] = Convert.ToBase64String(_oldEncryption),
        ["AlertNet:OldKeys:0:BlindIndexKey"] = Convert.ToBase64String(_oldIndex),
        // The alert here goes to more people than the default approval threshold; approval is tested elsewhere.
        ["Alerts:ApprovalThreshold"] = "0",
    });

    public async Task DisposeAsync() => await _app.DisposeAsync();

    [Fact]
    public async Task Join_and_stop_work_before_and_during_rotate_keys_and_afterwards_everything_is_under_the_new_key()
    {
        await SeedUnderTheOldKeyAsync();

        // New key configured, rotation not run yet: rows of the old key are found by what people text.
        Assert.NotNull(await _app.TextAsync(Seeded[0], "STOP"));         // sms and whatsapp rows under key 0
        Assert.NotNull(await _app.TextAsync(Seeded[1], "JOIN"));         // already subscribed: no second row
        Assert.Null(await _app.TextAsync(Seeded[100], "hello"));         // opted out under key 0: silence
        Assert.Null(await _app.TextAsync(ReturningOptOut, "hello"));     // opt-out with no subscriber left: silence
        Assert.NotNull(await _app.TextAsync("+12025556000", "JOIN"));    // someone new, under key 1
        Assert.Equal("legacy report text", await ReportTextAsync());

        // rotate-keys in small batches while people keep texting.
        var stops = Seeded[200..240];
        var rejoins = Seeded[300..340];
        var newcomers = AlertNetTestApp.Numbers(40, first: 6001);
        var rotation = _app.RunCommandAsync(KeyRotation.Verb, "--batch-size", "5");
        await using (var probe = await _app.Db.OpenConnectionAsync())
        {
            // Text once the first batches are re-encrypted (only the newcomer above was under key 1 so far).
            await Eventually.TrueAsync(async () => rotation.IsCompleted
                    || await probe.ExecuteScalarAsync<long>("SELECT count(*) FROM subscribers WHERE blind_index_key(phone_index) = 1") > 1,
                TimeSpan.FromSeconds(60), "rotate-keys to start");
        }

        await Parallel.ForEachAsync(stops.Select(n => (n, "STOP")).Concat(rejoins.Select(n => (n, "JOIN"))).Concat(newcomers.Select(n => (n, "JOIN")))
                .OrderBy(t => t.n.GetHashCode(StringComparison.Ordinal)),
            new ParallelOptions { MaxDegreeOfParallelism = 4 },
            async (text, _) => Assert.NotNull(await _app.TextAsync(text.Item1, text.Item2)));
        var (exitCode, output, errors) = await rotation;

        Assert.True(exitCode == 0, output + errors);
        Assert.Matches(@"opt_outs\.phone_index\s+\d+\s+1\b", output); // the forgotten opt-out: its index cannot be recomputed
        Assert.Contains("The older EncryptionKeys may be removed", output, StringComparison.Ordinal);
        await using var db = await _app.Db.OpenConnectionAsync();
        Assert.Equal(0, await db.ExecuteScalarAsync<long>(
            """
            SELECT count(*) FROM subscribers
            WHERE blind_index_key(phone_index) <> 1 OR cipher_key(phone_cipher) <> 1 OR cipher_format(phone_cipher) <> 3
            """));
        var numbers = (await db.QueryAsync<(long Id, string Channel, byte[] Cipher)>("SELECT id, channel, phone_cipher FROM subscribers"))
            .Select(r => (r.Channel, Number: _app.Protector.Decrypt(r.Cipher, CipherPlaces.SubscriberPhone(r.Id)))).ToList();
        Assert.Equal(Seeded.Length + 50 + 1 + newcomers.Length, numbers.Count);
        Assert.Equal(numbers.Count, numbers.Distinct().Count());
        Assert.Equal("legacy report text", await ReportTextAsync());
        Assert.Equal(0, await db.ExecuteScalarAsync<long>(
            """
            SELECT count(*) FROM hotline_reports
            WHERE reporter_index IS NOT NULL OR cipher_key(body_cipher) <> 1 OR cipher_format(body_cipher) <> 3
               OR cipher_key(reporter_cipher) <> 1 OR cipher_format(reporter_cipher) <> 3
            """));
        // The inbound text of the earlier version: re-encrypted, its SID replaced by the keyed hash, sender and keyword gone.
        var inbound = await db.QuerySingleAsync<(byte[] Body, byte[]? SidHash, string? Sid, byte[]? From, string? Keyword)>(
            "SELECT body_cipher, sid_hash, message_sid, from_index, keyword FROM inbound_messages WHERE message_sid = 'SMold' OR sid_hash = @hash",
            new { hash = _app.Protector.PurposeIndex(IndexPurpose.InboundMessageSid, "SMold") });
        Assert.True(_app.Protector.IsCurrent(inbound.Body));
        Assert.Equal(_app.Protector.PurposeIndex(IndexPurpose.InboundMessageSid, "SMold"), inbound.SidHash);
        Assert.Equal((null, null, null), (inbound.Sid, inbound.From, inbound.Keyword));
        Assert.Equal(1, await db.ExecuteScalarAsync<long>("SELECT count(*) FROM audit_log WHERE action = 'keys.rotate' AND subject = 'key:1'"));

        // One alert: every subscribed person once, nobody who said STOP (before, during or long before the rotation).
        var organizer = await _app.ClientWithRoleAsync(Roles.Organizer);
        string[] optedOut = [Seeded[0], .. Seeded[100..120], .. stops];
        var expected = Seeded.Except(optedOut).Concat(newcomers).Append("+12025556000").ToList();
        var id = await AlertNetTestApp.TriggerAlertAsync(organizer, new { type = "urgent", bodies = new { en = "Checkpoint on Main" } });
        await AlertNetTestApp.WaitUntilSettledAsync(organizer, id, expected.Count, TimeSpan.FromSeconds(120));
        Assert.All(expected, n => Assert.Equal(1, _app.Carrier.AlertCountTo(n) + _app.Carrier.AlertCountTo("whatsapp:" + n)));
        Assert.All(optedOut.Append(ReturningOptOut).Append(ForgottenOptOut),
            n => Assert.Equal(0, _app.Carrier.AlertCountTo(n) + _app.Carrier.AlertCountTo("whatsapp:" + n)));
    }

    private async Task<string> ReportTextAsync()
    {
        await using var db = await _app.Db.OpenConnectionAsync();
        var report = await db.QuerySingleAsync<(long Id, byte[] Body)>("SELECT id, body_cipher FROM hotline_reports");
        return _app.Protector.Decrypt(report.Body, CipherPlaces.HotlineText(report.Id));
    }

    /// <summary>What a database written before the rotation (and before ciphertext format 3) holds: everything under key 0.</summary>
    private async Task SeedUnderTheOldKeyAsync()
    {
        var rows = Seeded.Select((n, i) => (Channel: "sms", Number: n, OptedOut: i is >= 100 and < 120))
            .Concat(Seeded.Take(50).Select(n => (Channel: "whatsapp", Number: n, OptedOut: false)))
            .ToList();
        await using var db = await _app.Db.OpenConnectionAsync();
        await db.ExecuteAsync(
            """
            INSERT INTO subscribers (channel, phone_index, phone_cipher, status)
            SELECT * FROM unnest(@channels, @indexes, @ciphers, @statuses);
            INSERT INTO memberships (group_id, subscriber_id) SELECT g.id, s.id FROM groups g, subscribers s WHERE g.is_default;
            INSERT INTO opt_outs (phone_index) SELECT * FROM unnest(@optOuts);
            INSERT INTO hotline_reports (channel, reporter_index, reporter_cipher, body_cipher) VALUES ('sms', @reporterIndex, @reporter, @report);
            INSERT INTO inbound_messages (message_sid, channel, from_index, body_cipher, keyword) VALUES ('SMold', 'sms', @reporterIndex, @report, 'report');
            """,
            new
            {
                channels = rows.Select(r => r.Channel).ToArray(),
                indexes = rows.Select(r => LegacyCiphertext.BlindIndex(_oldIndex, r.Number)).ToArray(),
                ciphers = rows.Select(r => LegacyCiphertext.Encrypt(_oldEncryption, r.Number)).ToArray(),
                statuses = rows.Select(r => r.OptedOut ? "opted_out" : "active").ToArray(),
                optOuts = Seeded[100..120].Append(ReturningOptOut).Append(ForgottenOptOut).Select(n => LegacyCiphertext.BlindIndex(_oldIndex, n)).ToArray(),
                reporterIndex = LegacyCiphertext.BlindIndex(_oldIndex, Seeded[5]),
                reporter = LegacyCiphertext.Encrypt(_oldEncryption, Seeded[5]),
                report = LegacyCiphertext.Encrypt(_oldEncryption, "legacy report text"),
            });
    }
}
