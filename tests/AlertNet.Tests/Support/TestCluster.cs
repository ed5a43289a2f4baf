using System.Diagnostics;
using Npgsql;

namespace AlertNet.Tests.Support;

/// <summary>The real PostgreSQL the tests run against: the project's own local cluster
/// (infra/postgres.sh), started on demand. Each test app gets a database of its own.</summary>
public static class TestCluster
{
    private static readonly Lazy<string> BaseConnectionString = new(Locate);

    public static string RepoRoot { get; } = FindRepoRoot();

    private static readonly SemaphoreSlim TemplateGate = new(1, 1);
    private static string? _migratedTemplate;

    /// <summary>An empty database of its own (for tests of the migrations themselves).</summary>
    public static Task<string> CreateDatabaseAsync() => CreateFromAsync(template: null);

    /// <summary>A database of its own with AlertNet's schema already in place: a copy of one migrated template per test
    /// run (CREATE DATABASE ... TEMPLATE copies files), so a hundred test apps do not each run every migration.</summary>
    public static async Task<string> CreateMigratedDatabaseAsync() => await CreateFromAsync(await MigratedTemplateAsync());

    private static async Task<string> CreateFromAsync(string? template)
    {
        var name = "alertnet_test_" + Guid.NewGuid().ToString("N")[..12];
        await using var connection = new NpgsqlConnection(BaseConnectionString.Value);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand($"CREATE DATABASE {name}{(template is null ? "" : " TEMPLATE " + template)}", connection);
        await command.ExecuteNonQueryAsync();
        return new NpgsqlConnectionStringBuilder(BaseConnectionString.Value) { Database = name }.ConnectionString;
    }

    private static async Task<string> MigratedTemplateAsync()
    {
        await TemplateGate.WaitAsync();
        try
        {
            if (_migratedTemplate is { } made)
            {
                return made;
            }

            var connectionString = await CreateFromAsync(template: null);
            await using (var source = NpgsqlDataSource.Create(connectionString))
            {
                await new AlertNet.Infrastructure.Database.DatabaseMigrator(source,
                    Microsoft.Extensions.Logging.Abstractions.NullLogger<AlertNet.Infrastructure.Database.DatabaseMigrator>.Instance)
                    .MigrateAsync(CancellationToken.None);
            }

            // A template may have no open connection while it is copied; it goes when the test run ends.
            NpgsqlConnection.ClearAllPools();
            AppDomain.CurrentDomain.ProcessExit += (_, _) => DropDatabaseAsync(connectionString).GetAwaiter().GetResult();
            return _migratedTemplate = new NpgsqlConnectionStringBuilder(connectionString).Database!;
        }
        finally
        {
            TemplateGate.Release();
        }
    }

    /// <summary>A database outage for one test's database alone (the cluster's other tests carry on): new
    /// connections refused and the open ones ended, or connections allowed again.</summary>
    public static async Task SetConnectionsAllowedAsync(string connectionString, bool allowed)
    {
        var name = new NpgsqlConnectionStringBuilder(connectionString).Database;
        await using var connection = new NpgsqlConnection(BaseConnectionString.Value);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(
            $"ALTER DATABASE {name} ALLOW_CONNECTIONS {(allowed ? "true" : "false")};"
            + (allowed ? "" : $" SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}';"), connection);
        await command.ExecuteNonQueryAsync();
    }

    public static async Task DropDatabaseAsync(string connectionString)
    {
        var name = new NpgsqlConnectionStringBuilder(connectionString).Database;
        NpgsqlConnection.ClearAllPools();
        await using var connection = new NpgsqlConnection(BaseConnectionString.Value);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand($"DROP DATABASE IF EXISTS {name} WITH (FORCE)", connection);
        await command.ExecuteNonQueryAsync();
    }

    private static string Locate()
    {
        if (Environment.GetEnvironmentVariable("ALERTNET_TEST_PG") is { Length: > 0 } configured)
        {
            return configured;
        }

        // Run directly with `dotnet test`: start the local cluster the same way infra/test.sh does.
        var script = Path.Combine(RepoRoot, "infra", "postgres.sh");
        Run(script, "start");
        return Run(script, "url").Trim();
    }

    private static string Run(string script, string argument)
    {
        using var process = Process.Start(new ProcessStartInfo("bash", [script, argument])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        })!;
        var output = process.StandardOutput.ReadToEnd();
        var errors = process.StandardError.ReadToEnd();
        process.WaitForExit();
        return process.ExitCode == 0 ? output : throw new InvalidOperationException($"{script} {argument} failed: {errors}");
    }

    private static string FindRepoRoot()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "AlertNet.sln")))
        {
            directory = directory.Parent;
        }

        return directory?.FullName ?? throw new InvalidOperationException("Cannot find the repository root (AlertNet.sln).");
    }
}
