using DbUp;
using DbUp.Engine.Output;
using Npgsql;

namespace AlertNet.Infrastructure.Database;

/// <summary>Applies the numbered .sql files embedded under Migrations/ with DbUp. DbUp takes no lock of
/// its own, so the upgrade runs under a PostgreSQL advisory lock: processes starting together wait for
/// one another instead of racing.</summary>
public sealed class DatabaseMigrator(NpgsqlDataSource db, ILogger<DatabaseMigrator> logger)
{
    // Arbitrary but fixed: "AlertNet" in ASCII, shared by every AlertNet process on this database.
    private const long AdvisoryLockKey = 0x416C6572744E6574;

    public async Task MigrateAsync(CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        await using (var lockCommand = new NpgsqlCommand("SELECT pg_advisory_lock(@key)", connection))
        {
            lockCommand.Parameters.AddWithValue("key", AdvisoryLockKey);
            await lockCommand.ExecuteNonQueryAsync(cancellationToken);
        }

        try
        {
            var upgrader = DeployChanges.To
                .PostgresqlDatabase(db.ConnectionString)
                .WithScriptsEmbeddedInAssembly(typeof(DatabaseMigrator).Assembly, name => name.EndsWith(".sql", StringComparison.Ordinal))
                .WithTransactionPerScript()
                .LogTo(new DbUpLog(logger))
                .Build();
            var result = upgrader.PerformUpgrade();
            if (!result.Successful)
            {
                throw new InvalidOperationException("Database migration failed: " + result.Error.Message, result.Error);
            }
        }
        finally
        {
            await using var unlock = new NpgsqlCommand("SELECT pg_advisory_unlock(@key)", connection);
            unlock.Parameters.AddWithValue("key", AdvisoryLockKey);
            await unlock.ExecuteNonQueryAsync(CancellationToken.None);
        }
    }

    /// <summary>The embedded scripts the database has not run yet (readiness: a process newer than its database).</summary>
    public Task<IReadOnlyList<string>> PendingScriptsAsync(CancellationToken cancellationToken) =>
        Task.Run<IReadOnlyList<string>>(() => DeployChanges.To
            .PostgresqlDatabase(db.ConnectionString)
            .WithScriptsEmbeddedInAssembly(typeof(DatabaseMigrator).Assembly, name => name.EndsWith(".sql", StringComparison.Ordinal))
            .LogToNowhere()
            .Build()
            .GetScriptsToExecute()
            .Select(script => script.Name.Split('.')[^2])
            .ToList(), cancellationToken);

    private sealed class DbUpLog(ILogger logger) : IUpgradeLog
    {
        public void LogTrace(string format, params object[] args) { }

        public void LogDebug(string format, params object[] args) { }

        public void LogInformation(string format, params object[] args) =>
            logger.LogInformation("Migrations: {Message}", string.Format(System.Globalization.CultureInfo.InvariantCulture, format, args));

        public void LogWarning(string format, params object[] args) =>
            logger.LogWarning("Migrations: {Message}", string.Format(System.Globalization.CultureInfo.InvariantCulture, format, args));

        public void LogError(string format, params object[] args) =>
            logger.LogError("Migrations: {Message}", string.Format(System.Globalization.CultureInfo.InvariantCulture, format, args));

        public void LogError(Exception ex, string format, params object[] args) =>
            logger.LogError(ex, "Migrations: {Message}", string.Format(System.Globalization.CultureInfo.InvariantCulture, format, args));
    }
}
