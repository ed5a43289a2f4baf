using System.Text;
using System.Text.RegularExpressions;
using Dapper;
using Npgsql;

namespace AlertNet.Tests.Support;

/// <summary>Looks for phone numbers (and other needles) wherever AlertNet keeps anything: every text, json, array and
/// bytea column of every schema (Hangfire's included), a whole pg_dump with each bytea value decoded, and log lines.</summary>
public static partial class NumberScan
{
    /// <summary>E.164, with and without +, national with and without punctuation, spaced, international written out,
    /// URL-encoded (as in a request's query string), and the WhatsApp address.</summary>
    public static IEnumerable<string> Formats(string e164)
    {
        var (area, exchange, line) = (e164[2..5], e164[5..8], e164[8..]);
        return
        [
            e164, e164[1..], area + exchange + line, $"({area}) {exchange}-{line}", $"({area}){exchange}-{line}", $"{area}-{exchange}-{line}",
            $"{area}.{exchange}.{line}", $"{area} {exchange} {line}", $"+1 {area}-{exchange}-{line}", $"+1 {area} {exchange} {line}",
            $"+1 ({area}) {exchange}-{line}", $"1-{area}-{exchange}-{line}", "whatsapp:" + e164, "%2B" + e164[1..],
        ];
    }

    /// <summary>The columns (schema.table.column) holding any needle, case-insensitively.</summary>
    public static async Task<IReadOnlyList<string>> ColumnsHoldingAsync(NpgsqlConnection connection, IReadOnlyCollection<string> needles)
    {
        var columns = (await connection.QueryAsync<(string Schema, string Table, string Column, string Type)>(
            """
            SELECT c.table_schema, c.table_name, c.column_name, c.data_type
            FROM information_schema.columns c
            JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name AND t.table_type = 'BASE TABLE'
            WHERE c.table_schema IN ('public', 'hangfire')
              AND c.data_type IN ('text', 'character varying', 'jsonb', 'json', 'bytea', 'ARRAY')
            """)).ToList();
        Assert.Contains(columns, c => c.Table == "subscribers" && c.Column == "phone_cipher");
        var holding = new List<string>();
        foreach (var (schema, table, column, type) in columns)
        {
            // For bytea, 'escape' shows printable bytes as they are: a number stored as UTF-8 would show.
            var text = type == "bytea" ? $"encode(\"{column}\", 'escape')" : $"\"{column}\"::text";
            var hits = await connection.ExecuteScalarAsync<long>(
                $"SELECT count(*) FROM \"{schema}\".\"{table}\" WHERE {text} ILIKE ANY(@patterns)",
                new { patterns = needles.Select(f => $"%{f}%").ToArray() });
            if (hits > 0)
            {
                holding.Add($"{schema}.{table}.{column}");
            }
        }

        return holding;
    }

    /// <summary>The needles found in a pg_dump of the database (its text, and every bytea value decoded).</summary>
    public static async Task<IReadOnlyList<string>> InDumpAsync(string connectionString, IReadOnlyCollection<string> needles)
    {
        var dump = await PgDump.RunAsync(connectionString);
        Assert.Contains("phone_cipher", dump, StringComparison.Ordinal);
        var decoded = string.Join('\n', ByteaLiteral().Matches(dump).Select(m => Encoding.Latin1.GetString(Convert.FromHexString(m.Groups[1].Value))));
        return needles.Where(n => dump.Contains(n, StringComparison.OrdinalIgnoreCase) || decoded.Contains(n, StringComparison.OrdinalIgnoreCase))
            .ToList();
    }

    /// <summary>The lines holding any needle.</summary>
    public static IReadOnlyList<string> LinesHolding(IEnumerable<string> lines, IReadOnlyCollection<string> needles) =>
        lines.Where(line => needles.Any(n => line.Contains(n, StringComparison.OrdinalIgnoreCase))).ToList();

    // A bytea value in pg_dump's COPY data: \\x followed by hex digits.
    [GeneratedRegex(@"\\\\x([0-9a-f]+)")]
    private static partial Regex ByteaLiteral();
}
