using AlertNet.Privacy;
using Npgsql;

namespace AlertNet.Benchmarks;

/// <summary>What every phase works with.</summary>
internal sealed class BenchContext
{
    public const string UrgentGroup = "bench-urgent";

    public required BenchScale Scale { get; init; }

    public required BenchDatabase Database { get; init; }

    public required PersonalDataProtector Protector { get; init; }

    public required EmulatorProcess Emulator { get; init; }

    public required AlertNetConfig Config { get; init; }

    public required InProcessAlertNet AlertNet { get; init; }

    public required AlertNetApi Api { get; init; }

    public required string OrganizerToken { get; init; }

    public required long DefaultGroupId { get; init; }

    public required Report Report { get; init; }

    public required string RepoRoot { get; init; }

    public NpgsqlDataSource Db => Database.Db;

    /// <summary>The phases from e on run AlertNet as separate processes, with settings of their own; only one
    /// AlertNet may serve the database's Hangfire queues at a time, or the in-process one would take half the jobs.</summary>
    public Task StopInProcessAlertNetAsync() => AlertNet.StopAsync();

    /// <summary>Filled by phase b, compared against by phase f.</summary>
    public AlertProgress.Dispatch? Urgent100k { get; set; }
}
