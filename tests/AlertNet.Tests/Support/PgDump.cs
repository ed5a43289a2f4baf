using System.Diagnostics;
using System.Text.RegularExpressions;
using Npgsql;

namespace AlertNet.Tests.Support;

/// <summary>The whole database as a seizure would find it: pg_dump's plain text, and its COPY data read back per table.</summary>
public static partial class PgDump
{
    /// <summary>pg_dump of the newest PostgreSQL on the machine, as infra/postgres.sh picks its binaries.</summary>
    public static async Task<string> RunAsync(string connectionString)
    {
        var pgDump = Directory.GetDirectories("/usr/lib/postgresql")
            .OrderBy(d => int.TryParse(Path.GetFileName(d), out var v) ? v : 0)
            .Select(d => Path.Combine(d, "bin", "pg_dump"))
            .Last(File.Exists);
        var target = new NpgsqlConnectionStringBuilder(connectionString);
        var start = new ProcessStartInfo(pgDump, ["-h", target.Host!, "-p", target.Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "-U", target.Username!, "-d", target.Database!, "--no-owner"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        Assert.True(process.ExitCode == 0, "pg_dump failed: " + await errors);
        return await output;
    }

    /// <summary>Every bytea value of the dump's COPY data, by "schema.table.column" (NULLs left out).</summary>
    public static Dictionary<string, List<byte[]>> ByteaValues(string dump)
    {
        var values = new Dictionary<string, List<byte[]>>(StringComparer.Ordinal);
        foreach (Match copy in CopyBlock().Matches(dump))
        {
            var table = copy.Groups[1].Value;
            var columns = copy.Groups[2].Value.Split(", ").Select(c => c.Trim('"')).ToArray();
            foreach (var line in copy.Groups[3].Value.Split('\n', StringSplitOptions.RemoveEmptyEntries))
            {
                var fields = line.Split('\t');
                for (var i = 0; i < fields.Length && i < columns.Length; i++)
                {
                    if (ByteaField().Match(fields[i]) is { Success: true } bytea)
                    {
                        var key = $"{table}.{columns[i]}";
                        (values.TryGetValue(key, out var list) ? list : values[key] = []).Add(Convert.FromHexString(bytea.Groups[1].Value));
                    }
                }
            }
        }

        return values;
    }

    // COPY public.subscribers (id, channel, ...) FROM stdin;\n rows \n\.
    [GeneratedRegex(@"^COPY ([\w.""]+) \(([^)]*)\) FROM stdin;\n(.*?)^\\\.$", RegexOptions.Multiline | RegexOptions.Singleline)]
    private static partial Regex CopyBlock();

    // A bytea value in COPY text: \\x followed by hex digits.
    [GeneratedRegex(@"^\\\\x([0-9a-f]*)$")]
    private static partial Regex ByteaField();
}
