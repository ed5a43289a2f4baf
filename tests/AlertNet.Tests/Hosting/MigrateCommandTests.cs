using System.Diagnostics;
using AlertNet.Privacy;
using AlertNet.Tests.Support;
using Npgsql;

namespace AlertNet.Tests.Hosting;

/// <summary>The migrate verb, a deployment's migration step (compose service, Kubernetes Job): an empty database
/// gets the whole schema and the command exits.</summary>
public sealed class MigrateCommandTests
{
    [Fact]
    public async Task Migrate_creates_the_schema_in_an_empty_database_and_exits()
    {
        var connectionString = await TestCluster.CreateDatabaseAsync();
        try
        {
            var start = new ProcessStartInfo("dotnet", [AlertNetTestApp.AlertNetDll(), "migrate"])
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            };
            start.Environment["ConnectionStrings__AlertNet"] = connectionString;
            start.Environment["AlertNet__EncryptionKey"] = KeyFile.NewKey();
            start.Environment["AlertNet__BlindIndexKey"] = KeyFile.NewKey();
            start.Environment["Twilio__DrillAuthToken"] = "migrate-test";
            start.Environment["Logging__LogLevel__Default"] = "Warning";
            using var process = Process.Start(start)!;
            var output = process.StandardOutput.ReadToEndAsync();
            var errors = process.StandardError.ReadToEndAsync();
            await process.WaitForExitAsync();

            Assert.True(process.ExitCode == 0, await errors);
            Assert.Contains("up to date", await output, StringComparison.Ordinal);
            await using var connection = new NpgsqlConnection(connectionString);
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand(
                "SELECT to_regclass('public.deliveries') IS NOT NULL AND to_regclass('hangfire.job') IS NOT NULL", connection);
            Assert.True((bool)(await command.ExecuteScalarAsync())!);
        }
        finally
        {
            await TestCluster.DropDatabaseAsync(connectionString);
        }
    }
}
