using AlertNet.Infrastructure.Auth;
using AlertNet.Tests.Support;
using Dapper;

namespace AlertNet.Tests.Delivery;

/// <summary>Real worker processes against one database: a throttle they keep together, and a worker
/// killed in the middle of an alert.</summary>
public sealed class WorkerFailureTests : IAsyncLifetime
{
    private AlertNetTestApp _web = null!;

    public async Task InitializeAsync() => _web = await AlertNetTestApp.StartAsync(role: "web", new Dictionary<string, string?>
    {
        ["Delivery:SegmentsPerSecond"] = "50",
        ["Delivery:BatchSize"] = "10",
        ["Delivery:ClaimLeaseSeconds"] = "5",
        ["Delivery:SweepIntervalSeconds"] = "1",
        ["Delivery:StallSeconds"] = "2",
    });

    public async Task DisposeAsync() => await _web.DisposeAsync();

    [Fact]
    public async Task Two_worker_processes_together_keep_to_the_senders_rate()
    {
        var numbers = AlertNetTestApp.Numbers(200);
        await _web.JoinAllAsync(numbers);
        _web.StartWorkerProcess();
        _web.StartWorkerProcess();
        await WaitForWorkersAsync(2);
        var organizer = await _web.ClientWithRoleAsync(Roles.Organizer);

        var id = await AlertNetTestApp.TriggerAlertAsync(organizer, new { type = "know_your_rights", bodies = new { en = "Know your rights" } });
        await AlertNetTestApp.WaitUntilSettledAsync(organizer, id, numbers.Length, TimeSpan.FromSeconds(90));

        // At 50 segments a second, 200 one-segment messages take about 4 s whatever the number of
        // workers. Two unthrottled workers would need a small fraction of that. (Only a lower bound:
        // a slow machine may take longer, never shorter.)
        var times = _web.Carrier.Messages.Select(m => m.DateCreated).Order().ToList();
        var spread = times[^1] - times[0];
        Assert.True(spread >= TimeSpan.FromSeconds(3.5), $"200 messages went out in {spread.TotalSeconds:0.00} s");
        Assert.All(numbers, number => Assert.Equal(1, _web.Carrier.CountTo(number)));
    }

    [Fact]
    public async Task A_worker_killed_mid_alert_leaves_no_one_without_the_alert_and_no_one_with_two()
    {
        var numbers = AlertNetTestApp.Numbers(300);
        await _web.JoinAllAsync(numbers);
        _web.StartWorkerProcess();
        await WaitForWorkersAsync(1);
        var organizer = await _web.ClientWithRoleAsync(Roles.Organizer);

        var id = await AlertNetTestApp.TriggerAlertAsync(organizer, new { type = "urgent", bodies = new { en = "Raid reported" } });
        await Eventually.TrueAsync(() => _web.Carrier.Messages.Count >= 60, TimeSpan.FromSeconds(60), "the first worker to be sending");
        _web.KillWorkerProcesses();
        _web.StartWorkerProcess();
        var alert = await AlertNetTestApp.WaitUntilSettledAsync(organizer, id, numbers.Length, TimeSpan.FromSeconds(120));

        Assert.Equal(numbers.Length, alert.GetProperty("counts").GetProperty("delivered").GetInt32());
        Assert.All(numbers, number => Assert.Equal(1, _web.Carrier.CountTo(number)));
    }

    private async Task WaitForWorkersAsync(int processes)
    {
        await using var connection = await _web.Db.OpenConnectionAsync();
        // Each worker process runs two Hangfire servers (urgent and bulk lanes).
        await Eventually.ValueAsync(() => connection.ExecuteScalarAsync<int>("SELECT count(*) FROM hangfire.server"),
            servers => servers >= 2 * processes, TimeSpan.FromSeconds(60),
            () => "the worker processes to start. Output:\n" + string.Join('\n', _web.WorkerOutput));
    }
}
