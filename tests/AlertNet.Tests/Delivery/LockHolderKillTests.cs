using System.Diagnostics;
using AlertNet.Infrastructure.Auth;
using AlertNet.Privacy;
using AlertNet.Tests.Support;
using Dapper;
using Hangfire;

namespace AlertNet.Tests.Delivery;

/// <summary>A worker process SIGKILLed while it holds Hangfire locks (registering the retention job at start-up, in the
/// schedulers' loops, in the clean-up) leaves the lock rows behind: Hangfire.PostgreSql keeps a lock as a row in
/// <c>hangfire.lock</c> and nothing removes it when its holder dies. The next worker must start regardless, send at
/// once, and get every one of those locks back within about a minute (Jobs:DistributedLockTimeoutSeconds).</summary>
public sealed class LockHolderKillTests : IAsyncLifetime
{
    /// <summary>Every Hangfire lock an AlertNet worker takes on its own (as stored: Hangfire.PostgreSql prefixes its schema
    /// to all but the clean-up's). The per-job <c>job:N:state-lock</c> and the campaigns' locks are taken on demand.</summary>
    private static readonly string[] WorkerLocks =
    [
        "hangfire:lock:recurring-job:" + RetentionJob.RecurringJobId,
        "hangfire:recurring-jobs:lock",
        "hangfire:locks:schedulepoller",
        "locks:expirationmanager",
    ];

    private AlertNetTestApp _web = null!;

    public async Task InitializeAsync() => _web = await AlertNetTestApp.StartAsync(role: "web", new Dictionary<string, string?>
    {
        // The sweeper would dispatch a scheduled alert the schedule poller never started, after StallSeconds: far off,
        // so that only Hangfire's schedule poller (behind its lock) can send it here.
        ["Delivery:StallSeconds"] = "3600",
    });

    public async Task DisposeAsync() => await _web.DisposeAsync();

    [Fact]
    public async Task A_worker_killed_holding_every_lock_does_not_stop_the_next_from_starting_and_sending_within_a_minute()
    {
        var numbers = AlertNetTestApp.Numbers(20, first: 5300);
        await _web.JoinAllAsync(numbers);
        var organizer = await _web.ClientWithRoleAsync(Roles.Organizer);
        _web.StartWorkerProcess();
        await _web.WaitForWorkerProcessesAsync(1);
        await using var db = await _web.Db.OpenConnectionAsync();
        // The retention job's registration must be redone by the next worker (so it needs that lock), as after a first
        // start that was killed half-way through registering.
        await Eventually.TrueAsync(async () => await RetentionRegisteredAsync(db), TimeSpan.FromSeconds(30), "the retention job to be registered");
        _web.Services.GetRequiredService<IRecurringJobManager>().RemoveIfExists(RetentionJob.RecurringJobId);

        // SIGKILL, and the lock rows such a kill leaves when it lands while the worker holds them (acquired just now).
        _web.KillWorkerProcesses();
        var killed = Stopwatch.GetTimestamp();
        var acquired = await db.ExecuteScalarAsync<DateTime>("SELECT date_trunc('milliseconds', now())");
        await db.ExecuteAsync(
            "INSERT INTO hangfire.lock (resource, updatecount, acquired) SELECT r, 0, @acquired FROM unnest(@WorkerLocks) AS r ON CONFLICT (resource) DO UPDATE SET acquired = @acquired",
            new { WorkerLocks, acquired });

        _web.StartWorkerProcess();
        var urgent = await AlertNetTestApp.TriggerAlertAsync(organizer, new { type = "urgent", bodies = new { en = "Raid reported at 5th and Main" } });
        var scheduled = await AlertNetTestApp.TriggerAlertAsync(organizer,
            new { type = "urgent", bodies = new { en = "Update: agents now at 6th and Main" }, sendAt = DateTimeOffset.UtcNow.AddSeconds(5) });

        // The new worker starts and sends the urgent alert to everyone well within a minute of the kill, without any
        // lock: sending needs none.
        var alert = await AlertNetTestApp.WaitUntilSettledAsync(organizer, urgent, numbers.Length, TimeSpan.FromSeconds(60));
        Assert.Equal(numbers.Length, alert.GetProperty("counts").GetProperty("delivered").GetInt32());
        var urgentDone = Stopwatch.GetElapsedTime(killed);

        // Within a minute of the kill (plus the schedulers' polling), every dead holder's lock has been taken back:
        // the scheduled alert goes out (schedule poller), the retention job is registered again (its recurring-job lock).
        await AlertNetTestApp.WaitUntilSettledAsync(organizer, scheduled, numbers.Length, TimeSpan.FromSeconds(90));
        var scheduledDone = Stopwatch.GetElapsedTime(killed);
        await Eventually.TrueAsync(async () => await RetentionRegisteredAsync(db), TimeSpan.FromSeconds(90) - Stopwatch.GetElapsedTime(killed),
            "the new worker to register the retention job once the dead holder's lock expired");
        await Eventually.TrueAsync(
            async () => await db.ExecuteScalarAsync<long>(
                "SELECT count(*) FROM hangfire.lock WHERE resource = ANY(@WorkerLocks) AND acquired = @acquired", new { WorkerLocks, acquired }) == 0,
            TimeSpan.FromSeconds(30), "every lock row of the killed worker to be gone or taken over");

        Assert.Equal(1, _web.ExitedWorkerProcesses);
        Assert.True(scheduledDone < TimeSpan.FromSeconds(90), $"the scheduled alert went out {scheduledDone.TotalSeconds:0.0} s after the kill");
        Assert.All(numbers, number => Assert.Equal(2, _web.Carrier.AlertCountTo(number)));
        Assert.DoesNotContain(_web.WorkerOutput, line => line.Contains("DistributedLockException", StringComparison.Ordinal)
            && line.Contains("Unhandled", StringComparison.OrdinalIgnoreCase));
        Console.WriteLine($"urgent alert settled {urgentDone.TotalSeconds:0.0} s after the kill, scheduled one {scheduledDone.TotalSeconds:0.0} s");
    }

    private static async Task<bool> RetentionRegisteredAsync(Npgsql.NpgsqlConnection db) =>
        await db.ExecuteScalarAsync<bool>(
            "SELECT EXISTS (SELECT 1 FROM hangfire.hash WHERE key = 'recurring-job:' || @id AND field = 'Cron')", new { id = RetentionJob.RecurringJobId });
}
