using System.Globalization;
using Dapper;
using Npgsql;

namespace AlertNet.Benchmarks;

/// <summary>
/// Samples what the run's database sessions are doing every 100 ms (pg_stat_activity: active client backends of
/// this database and their wait event), so each phase can say where PostgreSQL's time goes: waiting for a WAL
/// flush at commit, for a lock, for I/O, or running on a CPU. One small query on the benchmark's own pool.
/// </summary>
internal sealed class WaitSampler : IAsyncDisposable
{
    private readonly Dictionary<string, int> _counts = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _statements = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _sampling;
    private int _samples;

    private WaitSampler(NpgsqlDataSource db) => _sampling = SampleAsync(db);

    public static WaitSampler Start(NpgsqlDataSource db) => new(db);

    /// <summary>Stops sampling; the share of the sessions' time by wait event over all samples.</summary>
    public async Task<WaitProfile> StopAsync()
    {
        await _stop.CancelAsync();
        await _sampling;
        var total = _counts.Values.Sum();
        List<(string, double)> Shares(Dictionary<string, int> counts) =>
            counts.OrderByDescending(c => c.Value).Select(c => (c.Key, total == 0 ? 0 : (double)c.Value / total)).ToList();
        return new WaitProfile((double)total / Math.Max(1, _samples), Shares(_counts), Shares(_statements));
    }

    public async ValueTask DisposeAsync()
    {
        if (!_stop.IsCancellationRequested)
        {
            await StopAsync();
        }

        _stop.Dispose();
    }

    private async Task SampleAsync(NpgsqlDataSource db)
    {
        try
        {
            await using var connection = await db.OpenConnectionAsync(_stop.Token);
            while (!_stop.IsCancellationRequested)
            {
                // The statement's first words name it well enough; statements are parameterized, so no data shows.
                var rows = await connection.QueryAsync<(string Wait, string Statement)>(new CommandDefinition(
                    """
                    SELECT coalesce(wait_event_type || ':' || wait_event, 'CPU'),
                           left(regexp_replace(query, '\s+', ' ', 'g'), 60)
                    FROM pg_stat_activity
                    WHERE datname = current_database() AND state = 'active' AND backend_type = 'client backend'
                      AND pid <> pg_backend_pid()
                    """, cancellationToken: _stop.Token));
                foreach (var (wait, statement) in rows)
                {
                    _counts[wait] = _counts.GetValueOrDefault(wait) + 1;
                    _statements[statement] = _statements.GetValueOrDefault(statement) + 1;
                }

                _samples++;
                await Task.Delay(100, _stop.Token);
            }
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
        }
    }
}

/// <summary>Where PostgreSQL sessions spent their time, as shares of all active-session samples.</summary>
internal sealed record WaitProfile(double ActiveSessions, IReadOnlyList<(string Event, double Share)> Shares,
    IReadOnlyList<(string Statement, double Share)> Statements)
{
    /// <summary>Waiting for the WAL to reach the disk at commit (and the lock that serializes those flushes).</summary>
    public double CommitFlush => Shares.Where(s => s.Event is "LWLock:WALWrite" or "IO:WALSync" or "IO:WALWrite").Sum(s => s.Share);

    /// <summary>Running, or runnable and waiting for a core.</summary>
    public double Cpu => Shares.Where(s => s.Event == "CPU").Sum(s => s.Share);

    public override string ToString() => Shares.Count == 0
        ? "PostgreSQL sessions of this run: none seen active"
        : $"PostgreSQL sessions of this run, {ActiveSessions.ToString("0.0", CultureInfo.InvariantCulture)} active on average; their time by " +
          "wait event (CPU = running or waiting for a core): " +
          string.Join(", ", Shares.Take(6).Select(s => $"{s.Event} {Percent(s.Share)}")) +
          "; by statement: " + string.Join(", ", Statements.Take(4).Select(s => $"`{s.Statement}…` {Percent(s.Share)}"));

    private static string Percent(double share) => (100 * share).ToString("0", CultureInfo.InvariantCulture) + " %";
}
