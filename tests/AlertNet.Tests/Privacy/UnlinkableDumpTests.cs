using System.Security.Cryptography;
using AlertNet.Hosting;
using AlertNet.Privacy;
using AlertNet.Subscribers;
using AlertNet.Tests.Support;
using Dapper;

namespace AlertNet.Tests.Privacy;

/// <summary>A dump without keys, read as an adversary would: one person who subscribes on SMS and WhatsApp, reports a
/// sighting, gets the once-a-day hint and is also a registered organizer phone sending ALERT. Nothing in the dump joins
/// their subscription to their report, hint, organizer phone or texts; ciphertexts are bound to their place.</summary>
public sealed class UnlinkableDumpTests : IAsyncLifetime
{
    private const string Ana = "+12025550161";
    private const string Ben = "+12025550162";

    private AlertNetTestApp _app = null!;

    public async Task InitializeAsync() => _app = await AlertNetTestApp.StartAsync();

    public async Task DisposeAsync() => await _app.DisposeAsync();

    [Fact]
    public async Task A_dump_shares_no_index_value_between_subscribers_and_reports_organizer_phones_hints_or_inbound_texts()
    {
        using (var output = new StringWriter())
        {
            Assert.Equal(0, await CommandLineVerbs.RunAsync(_app.Services,
                CommandLineVerb.Parse([RegisterOrganizerPhone.Verb, "--phone", Ana, "--name", "ana"])!, output, output));
        }

        foreach (var (from, text) in new[]
                 {
                     (Ana, "JOIN"), ("whatsapp:" + Ana, "JOIN"), (Ana, "REPORT agents at the corner"), (Ana, "what is this"),
                     (Ana, "ALERT DEFAULT Checkpoint on Main"), (Ben, "JOIN"), (Ben, "REPORTE retén en la calle 5"), ("whatsapp:" + Ben, "hola"),
                 })
        {
            await _app.TextAsync(from, text);
        }

        var values = PgDump.ByteaValues(await PgDump.RunAsync(_app.ConnectionString));

        // Sanity: the rows are there, so the comparison below means something.
        Assert.Equal(3, values["public.subscribers.phone_index"].Count);
        Assert.Single(values["public.organizer_phones.phone_index"]);
        Assert.Equal(2, values["public.unknown_text_hints.phone_index"].Count);
        Assert.Equal(2, values["public.hotline_reports.body_cipher"].Count);
        Assert.Equal(8, values["public.inbound_messages.sid_hash"].Count);

        // The one join a feature needs: opt-outs are the subscribers' blind index (docs/threat-model.md).
        var subscriberIndexes = values["public.subscribers.phone_index"].Select(Hmac).ToHashSet();
        var elsewhere = values.Where(v => v.Key is not "public.subscribers.phone_index" and not "public.opt_outs.phone_index").ToList();
        foreach (var (column, bytes) in elsewhere)
        {
            Assert.False(bytes.Any(b => subscriberIndexes.Any(index => Contains(b, index))), $"{column} holds a subscriber's blind index");
        }

        // Nor do the purpose-specific indexes meet each other: the organizer phone is not the hinted number, nor a report's.
        var organizer = Hmac(Assert.Single(values["public.organizer_phones.phone_index"]));
        Assert.DoesNotContain(values["public.unknown_text_hints.phone_index"], h => Hmac(h).SequenceEqual(organizer));
        // The inbound texts hold no sender, no SID, no keyword.
        await using var db = await _app.Db.OpenConnectionAsync();
        Assert.Equal(0, await db.ExecuteScalarAsync<long>(
            "SELECT count(*) FROM inbound_messages WHERE message_sid IS NOT NULL OR from_index IS NOT NULL OR keyword IS NOT NULL"));
        Assert.Equal(0, await db.ExecuteScalarAsync<long>("SELECT count(*) FROM hotline_reports WHERE reporter_index IS NOT NULL"));
        // The WhatsApp window is on the WhatsApp subscription only, to the hour (Ben wrote on WhatsApp but is subscribed by SMS).
        var windows = (await db.QueryAsync<(string Channel, DateTime? At)>("SELECT channel, last_whatsapp_inbound_at FROM subscribers ORDER BY id")).ToList();
        Assert.Equal(["sms", "whatsapp", "sms"], windows.Select(w => w.Channel));
        Assert.Equal([false, true, false], windows.Select(w => w.At is not null));
        Assert.Equal((0, 0, 0), (windows[1].At!.Value.Minute, windows[1].At!.Value.Second, windows[1].At!.Value.Millisecond));
    }

    [Fact]
    public async Task A_ciphertext_moved_to_another_row_or_column_in_the_database_no_longer_decrypts()
    {
        await _app.TextAsync(Ana, "REPORT agents at the corner");
        await _app.TextAsync(Ben, "REPORT agents at the school");
        await using var db = await _app.Db.OpenConnectionAsync();
        var (first, second) = await db.QuerySingleAsync<(long, long)>("SELECT min(id), max(id) FROM hotline_reports");

        // Someone with write access to the database (no keys) swaps the reporters, and moves a text into a number column.
        await db.ExecuteAsync(
            """
            UPDATE hotline_reports r SET reporter_cipher = o.reporter_cipher FROM hotline_reports o WHERE r.id <> o.id;
            UPDATE hotline_reports SET body_cipher = reporter_cipher, reporter_cipher = body_cipher WHERE id = @first;
            """, new { first });

        var rows = (await db.QueryAsync<(long Id, byte[] Reporter, byte[] Body)>("SELECT id, reporter_cipher, body_cipher FROM hotline_reports"))
            .ToDictionary(r => r.Id);
        Assert.ThrowsAny<CryptographicException>(() => _app.Protector.Decrypt(rows[second].Reporter, CipherPlaces.HotlineReporter(second)));
        Assert.ThrowsAny<CryptographicException>(() => _app.Protector.Decrypt(rows[first].Reporter, CipherPlaces.HotlineReporter(first)));
        Assert.ThrowsAny<CryptographicException>(() => _app.Protector.Decrypt(rows[first].Body, CipherPlaces.HotlineText(first)));
        // Read at the place it was made for, the same ciphertext is fine: only the move broke it.
        Assert.Equal(Ana, _app.Protector.Decrypt(rows[second].Reporter, CipherPlaces.HotlineReporter(first)));
        Assert.Equal("agents at the school", _app.Protector.Decrypt(rows[second].Body, CipherPlaces.HotlineText(second)));
    }

    /// <summary>The HMAC part of an index: a subscriber index is 32 or 33 bytes, a purpose index 34; other values as they are.</summary>
    private static byte[] Hmac(byte[] index) => index.Length is 32 or 33 or 34 ? index[^32..] : index;

    private static bool Contains(byte[] haystack, byte[] needle) => haystack.AsSpan().IndexOf(needle) >= 0;
}
