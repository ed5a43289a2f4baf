using AlertNet.Infrastructure.Auth;
using AlertNet.Tests.Support;
using Dapper;

namespace AlertNet.Tests.Delivery;

/// <summary>A worker stopped with SIGTERM (a deploy, a scale-down) hands back what it claimed at once, so the
/// next worker carries on without waiting for any lease to run out.</summary>
public sealed class GracefulShutdownTests : IAsyncLifetime
{
    private AlertNetTestApp _web = null!;

    public async Task InitializeAsync() => _web = await AlertNetTestApp.StartAsync(role: "web", new Dictionary<string, string?>
    {
        ["Delivery:SegmentsPerSecond"] = "30",
        ["Delivery:BatchSize"] = "25",
        // Leases and the sweeper far beyond the test's patience: only an immediate hand-back lets the alert finish.
        ["Delivery:ClaimLeaseSeconds"] = "3600",
        ["Delivery:StallSeconds"] = "3600",
        ["Delivery:SweepIntervalSeconds"] = "3600",
    });

    public async Task DisposeAsync() => await _web.DisposeAsync();

    [Fact]
    public async Task A_worker_stopped_with_SIGTERM_releases_its_claimed_batch_and_the_next_worker_finishes_the_alert()
    {
        var numbers = AlertNetTestApp.Numbers(300, first: 3700);
        await _web.JoinAllAsync(numbers);
        _web.StartWorkerProcess();
        await WaitForServersAsync(2);
        var organizer = await _web.ClientWithRoleAsync(Roles.Organizer);
        var id = await AlertNetTestApp.TriggerAlertAsync(organizer, new { type = "urgent", bodies = new { en = "Raid reported" } });
        await Eventually.TrueAsync(() => _web.Carrier.AlertMessages().Count >= 30, TimeSpan.FromSeconds(60), "the first worker to be sending");

        var exitCodes = await _web.TerminateWorkerProcessesAsync();

        Assert.Equal([0], exitCodes);
        await using var db = await _web.Db.OpenConnectionAsync();
        // Nothing claimed without a SID is left behind: every unsent delivery is pending again, now.
        Assert.Equal(0, await db.ExecuteScalarAsync<long>(
            "SELECT count(*) FROM deliveries WHERE alert_id = @id AND state = 'sending' AND twilio_sid IS NULL", new { id }));
        var sentBefore = _web.Carrier.AlertMessages().Count;
        Assert.True(sentBefore < numbers.Length, "the alert finished before the worker was stopped");
        Assert.DoesNotContain(_web.WorkerOutput, line => line.Contains("fail", StringComparison.OrdinalIgnoreCase) && line.Contains("Unhandled", StringComparison.Ordinal));

        _web.StartWorkerProcess();
        var alert = await AlertNetTestApp.WaitUntilSettledAsync(organizer, id, numbers.Length, TimeSpan.FromSeconds(120));

        Assert.Equal(numbers.Length, alert.GetProperty("counts").GetProperty("delivered").GetInt32());
        Assert.All(numbers, number => Assert.Equal(1, _web.Carrier.AlertCountTo(number)));
    }

    private async Task WaitForServersAsync(int servers)
    {
        await using var connection = await _web.Db.OpenConnectionAsync();
        await Eventually.ValueAsync(() => connection.ExecuteScalarAsync<int>("SELECT count(*) FROM hangfire.server"), n => n >= servers,
            TimeSpan.FromSeconds(60), () => "the worker process to start. Output:\n" + string.Join('\n', _web.WorkerOutput));
    }
}
