using System.Text;
using System.Text.RegularExpressions;
using AlertNet.Infrastructure.Auth;
using AlertNet.Tests.Support;
using Dapper;

namespace AlertNet.Tests.Privacy;

/// <summary>After a realistic stretch of use (joins on SMS and WhatsApp, alerts, a STOP, a hotline report,
/// HELP with a number in it), no subscriber's number, in any common format, and no subscriber's text is in
/// the database (column by column, and in a whole pg_dump, bytea decoded) nor in any log line.</summary>
public sealed partial class NoPlaintextNumberTests : IAsyncLifetime
{
    private const string Number = "+12025550147";

    /// <summary>Every test number of the scenario; each is searched for in all its formats.</summary>
    private static readonly string[] Numbers = [Number, "+12025550148", "+12025550149", "+13105550150"];

    private static readonly string[] SubscriberTexts = ["my number is", "laundromat on 5th", "ayuda por favor"];

    private AlertNetTestApp _app = null!;

    public async Task InitializeAsync() => _app = await AlertNetTestApp.StartAsync();

    public async Task DisposeAsync() => await _app.DisposeAsync();

    [Fact]
    public async Task No_table_column_dump_or_log_line_holds_a_subscriber_number_in_any_common_format_or_their_text()
    {
        await _app.TextAsync("whatsapp:" + Number, "JOIN");
        await _app.TextAsync(Number, "JOIN");
        await _app.TextAsync(Number, "HELP my number is 202-555-0147");
        await _app.TextAsync(Numbers[1], "ÚNETE");
        await _app.TextAsync(Numbers[1], "ayuda por favor");
        await _app.TextAsync("whatsapp:" + Numbers[2], "JOIN");
        await _app.TextAsync(Numbers[3], "REPORT agents near the laundromat on 5th, call me at (310) 555-0150");
        var organizer = await _app.ClientWithRoleAsync(Roles.Organizer);
        var id = await AlertNetTestApp.TriggerAlertAsync(organizer, new { type = "urgent", bodies = new { en = "Agents at the school", es = "Agentes en la escuela" } });
        // One person subscribed on two channels: one message.
        await AlertNetTestApp.WaitUntilSettledAsync(organizer, id, expectedRecipients: 3);
        await _app.TextAsync(Number, "STOP");
        await _app.TextAsync(Numbers[1], "ALTO");
        var second = await AlertNetTestApp.TriggerAlertAsync(organizer, new { type = "all_clear", bodies = new { en = "All clear" } });
        await AlertNetTestApp.WaitUntilSettledAsync(organizer, second, expectedRecipients: 1);
        var coordinator = await _app.ClientWithRoleAsync(Roles.Coordinator);
        Assert.Contains("laundromat", await coordinator.GetStringAsync("/api/hotline"), StringComparison.Ordinal);

        // The carrier got them: the numbers exist, just not in AlertNet's storage or logs.
        Assert.Equal(1, _app.Carrier.CountTo(Number) + _app.Carrier.CountTo("whatsapp:" + Number));
        Assert.Equal(2, _app.Carrier.CountTo("whatsapp:" + Numbers[2]));

        var formats = Numbers.SelectMany(Formats).ToArray();
        await using var connection = await _app.Db.OpenConnectionAsync();
        var columns = (await connection.QueryAsync<(string Schema, string Table, string Column, string Type)>(
            """
            SELECT c.table_schema, c.table_name, c.column_name, c.data_type
            FROM information_schema.columns c
            JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name AND t.table_type = 'BASE TABLE'
            WHERE c.table_schema IN ('public', 'hangfire')
              AND c.data_type IN ('text', 'character varying', 'jsonb', 'json', 'bytea', 'ARRAY')
            """)).ToList();
        Assert.Contains(columns, c => c.Table == "subscribers" && c.Column == "phone_cipher");

        foreach (var (schema, table, column, type) in columns)
        {
            // For bytea, 'escape' shows printable bytes as they are: a number stored as UTF-8 would show.
            var text = type == "bytea" ? $"encode(\"{column}\", 'escape')" : $"\"{column}\"::text";
            var hits = await connection.ExecuteScalarAsync<long>(
                $"SELECT count(*) FROM \"{schema}\".\"{table}\" WHERE {text} ILIKE ANY(@patterns)",
                new { patterns = formats.Concat(SubscriberTexts).Select(f => $"%{f}%").ToArray() });
            Assert.True(hits == 0, $"{schema}.{table}.{column} holds a number or a subscriber's text");
        }

        // The whole database as a seizure would find it: pg_dump's text, with every bytea value decoded too.
        var dump = await PgDump.RunAsync(_app.ConnectionString);
        Assert.Contains("phone_cipher", dump, StringComparison.Ordinal);
        var decoded = string.Join('\n', ByteaLiteral().Matches(dump).Select(m => Encoding.Latin1.GetString(Convert.FromHexString(m.Groups[1].Value))));
        foreach (var needle in formats.Concat(SubscriberTexts))
        {
            Assert.False(dump.Contains(needle, StringComparison.OrdinalIgnoreCase), $"pg_dump holds \"{needle}\"");
            Assert.False(decoded.Contains(needle, StringComparison.OrdinalIgnoreCase), $"a bytea value in pg_dump holds \"{needle}\"");
        }

        var leaked = _app.Logs.Lines.Where(line => formats.Concat(SubscriberTexts).Any(f => line.Contains(f, StringComparison.OrdinalIgnoreCase))).ToList();
        Assert.Empty(leaked);
    }

    /// <summary>E.164, with and without +, national with and without punctuation, spaced, international
    /// written out, and the WhatsApp address.</summary>
    private static IEnumerable<string> Formats(string e164)
    {
        var (area, exchange, line) = (e164[2..5], e164[5..8], e164[8..]);
        return
        [
            e164, e164[1..], area + exchange + line, $"({area}) {exchange}-{line}", $"({area}){exchange}-{line}", $"{area}-{exchange}-{line}",
            $"{area}.{exchange}.{line}", $"{area} {exchange} {line}", $"+1 {area}-{exchange}-{line}", $"+1 {area} {exchange} {line}",
            $"+1 ({area}) {exchange}-{line}", $"1-{area}-{exchange}-{line}", "whatsapp:" + e164,
        ];
    }

    // A bytea value in pg_dump's COPY data: \\x followed by hex digits.
    [GeneratedRegex(@"\\\\x([0-9a-f]+)")]
    private static partial Regex ByteaLiteral();
}
