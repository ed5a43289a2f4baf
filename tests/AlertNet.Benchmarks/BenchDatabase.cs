using System.Diagnostics;
using System.Globalization;
using AlertNet.Privacy;
using Dapper;
using Npgsql;
using NpgsqlTypes;

namespace AlertNet.Benchmarks;

/// <summary>A fresh database per run on the local cluster (dropped at the end), the benchmark's own
/// connection pool to it, and the bulk loading of made-up subscribers.</summary>
internal sealed class BenchDatabase : IAsyncDisposable
{
    private readonly string _serverConnectionString;

    private BenchDatabase(string serverConnectionString, string connectionString)
    {
        _serverConnectionString = serverConnectionString;
        ConnectionString = connectionString;
        // The benchmark's own pool, apart from AlertNet's: its polling must not take AlertNet's connections.
        Db = NpgsqlDataSource.Create(connectionString);
    }

    public string ConnectionString { get; }

    public NpgsqlDataSource Db { get; }

    public static async Task<BenchDatabase> CreateAsync(string serverConnectionString, CancellationToken cancellationToken)
    {
        var name = "alertnet_bench_" + DateTime.UtcNow.ToString("yyyyMMdd_HHmmss", CultureInfo.InvariantCulture) + "_" + Guid.NewGuid().ToString("N")[..6];
        await using (var connection = new NpgsqlConnection(serverConnectionString))
        {
            await connection.OpenAsync(cancellationToken);
            await connection.ExecuteAsync(new CommandDefinition($"CREATE DATABASE {name}", cancellationToken: cancellationToken));
        }

        return new BenchDatabase(serverConnectionString, new NpgsqlConnectionStringBuilder(serverConnectionString) { Database = name }.ConnectionString);
    }

    /// <summary>A made-up number in the fictional range +1 202 5xx xxxx; the same index always gives the same number.</summary>
    public static string PhoneNumber(int index) => "+12025" + index.ToString("D6", CultureInfo.InvariantCulture);

    /// <summary>Subscribers number <paramref name="from"/> to <paramref name="from"/> + count - 1, loaded with
    /// binary COPY (encrypted number, blind index, a third in Spanish) and made members of a group. Returns
    /// the time it took.</summary>
    public async Task<TimeSpan> AddSubscribersAsync(PersonalDataProtector protector, int from, int count, long groupId,
        CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        await using var connection = await Db.OpenConnectionAsync(cancellationToken);
        var lastId = await connection.ExecuteScalarAsync<long>(new CommandDefinition(
            "SELECT coalesce(max(id), 0) FROM subscribers", cancellationToken: cancellationToken));
        // Ids first: each number's ciphertext is bound to its row (Privacy/CipherPlace.cs). COPY writes given identity values.
        var ids = (await connection.QueryAsync<long>(new CommandDefinition(
            "SELECT nextval(pg_get_serial_sequence('subscribers', 'id')) FROM generate_series(1, @count)", new { count },
            cancellationToken: cancellationToken))).ToArray();
        await using (var copy = await connection.BeginBinaryImportAsync(
                         "COPY subscribers (id, channel, phone_index, phone_cipher, language) FROM STDIN (FORMAT BINARY)", cancellationToken))
        {
            for (var i = from; i < from + count; i++)
            {
                var e164 = PhoneNumber(i);
                var id = ids[i - from];
                await copy.StartRowAsync(cancellationToken);
                await copy.WriteAsync(id, NpgsqlDbType.Bigint, cancellationToken);
                await copy.WriteAsync("sms", NpgsqlDbType.Text, cancellationToken);
                await copy.WriteAsync(protector.BlindIndex(e164), NpgsqlDbType.Bytea, cancellationToken);
                await copy.WriteAsync(protector.Encrypt(e164, CipherPlaces.SubscriberPhone(id)), NpgsqlDbType.Bytea, cancellationToken);
                await copy.WriteAsync(i % 3 == 2 ? "es" : "en", NpgsqlDbType.Text, cancellationToken);
            }

            await copy.CompleteAsync(cancellationToken);
        }

        // The new subscribers are exactly the ids above the old maximum: the identity only grows.
        await connection.ExecuteAsync(new CommandDefinition(
            "INSERT INTO memberships (subscriber_id, group_id) SELECT id, @groupId FROM subscribers WHERE id > @lastId",
            new { groupId, lastId }, cancellationToken: cancellationToken, commandTimeout: 600));
        await VacuumAnalyzeAsync(["subscribers", "memberships"], cancellationToken);
        return Stopwatch.GetElapsedTime(started);
    }

    /// <summary>A group of the first <paramref name="size"/> subscribers, for the urgent-latency alerts.</summary>
    public async Task<long> CreateGroupOfFirstSubscribersAsync(string name, int size, CancellationToken cancellationToken)
    {
        await using var connection = await Db.OpenConnectionAsync(cancellationToken);
        var groupId = await connection.ExecuteScalarAsync<long>(new CommandDefinition(
            "INSERT INTO groups (name) VALUES (@name) RETURNING id", new { name }, cancellationToken: cancellationToken));
        await connection.ExecuteAsync(new CommandDefinition(
            "INSERT INTO memberships (subscriber_id, group_id) SELECT id, @groupId FROM subscribers ORDER BY id LIMIT @size",
            new { groupId, size }, cancellationToken: cancellationToken));
        return groupId;
    }

    public async Task<long> DefaultGroupIdAsync(CancellationToken cancellationToken)
    {
        await using var connection = await Db.OpenConnectionAsync(cancellationToken);
        return await connection.ExecuteScalarAsync<long>(new CommandDefinition(
            "SELECT id FROM groups WHERE is_default", cancellationToken: cancellationToken));
    }

    /// <summary>What a settled database looks like after autovacuum: fresh statistics and visibility map,
    /// so a plan or a scan is not measured against a table the planner has never seen.</summary>
    public async Task VacuumAnalyzeAsync(string[] tables, CancellationToken cancellationToken)
    {
        await using var connection = await Db.OpenConnectionAsync(cancellationToken);
        await connection.ExecuteAsync(new CommandDefinition(
            $"VACUUM (ANALYZE) {string.Join(", ", tables)}", cancellationToken: cancellationToken, commandTimeout: 600));
    }

    public async Task<string> ServerVersionAsync(CancellationToken cancellationToken)
    {
        await using var connection = await Db.OpenConnectionAsync(cancellationToken);
        return await connection.ExecuteScalarAsync<string>(new CommandDefinition("SHOW server_version", cancellationToken: cancellationToken)) ?? "?";
    }

    public async ValueTask DisposeAsync()
    {
        await Db.DisposeAsync();
        NpgsqlConnection.ClearAllPools();
        try
        {
            await using var connection = new NpgsqlConnection(_serverConnectionString);
            await connection.OpenAsync();
            var name = new NpgsqlConnectionStringBuilder(ConnectionString).Database;
            // FORCE: AlertNet's pools (or a killed AlertNet process's sessions) may still be connected.
            await connection.ExecuteAsync($"DROP DATABASE IF EXISTS {name} WITH (FORCE)");
        }
        catch (NpgsqlException error)
        {
            Console.WriteLine($"warning: could not drop the benchmark database: {error.Message}");
        }
    }
}
