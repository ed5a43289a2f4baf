using AlertNet.Infrastructure.Database;
using AlertNet.Tests.Support;
using Dapper;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace AlertNet.Tests.Infrastructure.Database;

public sealed class DatabaseMigratorTests
{
    [Fact]
    public async Task Processes_starting_at_once_apply_each_migration_exactly_once()
    {
        var connectionString = await TestCluster.CreateDatabaseAsync();
        try
        {
            // Separate data sources, as separate processes would have.
            var sources = Enumerable.Range(0, 4).Select(_ => NpgsqlDataSource.Create(connectionString)).ToList();
            await Task.WhenAll(sources.Select(db => new DatabaseMigrator(db, NullLogger<DatabaseMigrator>.Instance).MigrateAsync(CancellationToken.None)));

            await using var connection = await sources[0].OpenConnectionAsync();
            var applied = (await connection.QueryAsync<string>("SELECT scriptname FROM schemaversions")).ToList();
            var embedded = typeof(DatabaseMigrator).Assembly.GetManifestResourceNames().Count(n => n.EndsWith(".sql", StringComparison.Ordinal));
            Assert.Equal(embedded, applied.Count);
            Assert.Equal(applied.Count, applied.Distinct().Count());
            Assert.Equal(1, await connection.ExecuteScalarAsync<int>("SELECT count(*) FROM groups WHERE is_default"));
            foreach (var source in sources)
            {
                await source.DisposeAsync();
            }
        }
        finally
        {
            await TestCluster.DropDatabaseAsync(connectionString);
        }
    }
}
