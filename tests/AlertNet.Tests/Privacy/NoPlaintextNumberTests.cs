using AlertNet.Infrastructure.Auth;
using AlertNet.Tests.Support;
using Dapper;

namespace AlertNet.Tests.Privacy;

/// <summary>After the whole path ran (join, alert, callbacks, opt-out), the subscriber's number is
/// nowhere in the database nor in any log line, in any common format.</summary>
public sealed class NoPlaintextNumberTests : IAsyncLifetime
{
    private const string Number = "+12025550147";

    private static readonly string[] Formats =
        ["+12025550147", "12025550147", "2025550147", "(202) 555-0147", "202-555-0147", "202.555.0147", "202 555 0147", "+1 202-555-0147", "+1 202 555 0147"];

    private AlertNetTestApp _app = null!;

    public async Task InitializeAsync() => _app = await AlertNetTestApp.StartAsync();

    public async Task DisposeAsync() => await _app.DisposeAsync();

    [Fact]
    public async Task No_table_column_or_log_line_holds_the_subscriber_number_in_any_common_format()
    {
        await _app.TextAsync("whatsapp:" + Number, "JOIN");
        await _app.TextAsync(Number, "JOIN");
        await _app.TextAsync(Number, "HELP my number is 202-555-0147");
        var organizer = await _app.ClientWithRoleAsync(Roles.Organizer);
        var id = await AlertNetTestApp.TriggerAlertAsync(organizer, new { type = "urgent", bodies = new { en = "Agents at the school" } });
        // One person subscribed on two channels: one message.
        await AlertNetTestApp.WaitUntilSettledAsync(organizer, id, expectedRecipients: 1);
        await _app.TextAsync(Number, "STOP");

        // The carrier got it: the number exists, just not in AlertNet's storage or logs.
        Assert.Equal(1, _app.Carrier.CountTo(Number) + _app.Carrier.CountTo("whatsapp:" + Number));

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
                new { patterns = Formats.Select(f => $"%{f}%").ToArray() });
            Assert.True(hits == 0, $"{schema}.{table}.{column} holds the number");
        }

        var leaked = _app.Logs.Lines.Where(line => Formats.Any(f => line.Contains(f, StringComparison.Ordinal))).ToList();
        Assert.Empty(leaked);
    }
}
