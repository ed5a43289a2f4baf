using AlertNet.Infrastructure.Auth;
using AlertNet.Tests.Support;

namespace AlertNet.Tests.Delivery;

/// <summary>Real worker processes against one database: a throttle they keep together, and workers
/// killed in the middle of an alert (the test-sized version of the chaos command's first scenario).</summary>
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
        await _web.WaitForWorkerProcessesAsync(2);
        var organizer = await _web.ClientWithRoleAsync(Roles.Organizer);

        var id = await AlertNetTestApp.TriggerAlertAsync(organizer, new { type = "know_your_rights", bodies = new { en = "Know your rights" } });
        await AlertNetTestApp.WaitUntilSettledAsync(organizer, id, numbers.Length, TimeSpan.FromSeconds(90));

        // At 50 segments a second, 200 one-segment messages take about 4 s whatever the number of
        // workers. Two unthrottled workers would need a small fraction of that. (Only a lower bound:
        // a slow machine may take longer, never shorter.)
        var times = _web.Carrier.AlertMessages().Select(m => m.DateCreated).Order().ToList();
        var spread = times[^1] - times[0];
        Assert.True(spread >= TimeSpan.FromSeconds(3.5), $"200 messages went out in {spread.TotalSeconds:0.00} s");
        Assert.All(numbers, number => Assert.Equal(1, _web.Carrier.AlertCountTo(number)));
    }

    [Fact]
    public async Task Workers_killed_again_and_again_mid_alert_leave_no_one_without_the_alert_and_no_one_with_two()
    {
        var numbers = AlertNetTestApp.Numbers(300);
        await _web.JoinAllAsync(numbers);
        for (var i = 0; i < 3; i++)
        {
            _web.StartWorkerProcess();
        }

        await _web.WaitForWorkerProcessesAsync(3);
        var organizer = await _web.ClientWithRoleAsync(Roles.Organizer);

        var id = await AlertNetTestApp.TriggerAlertAsync(organizer, new { type = "urgent", bodies = new { en = "Raid reported" } });
        // A worker SIGKILLed (and a new one started, as a supervisor would) each time another fifth of the
        // alert has gone out: kills land mid-batch, in turn across the three, while the alert is sending.
        foreach (var sent in new[] { 40, 100, 160, 220 })
        {
            await Eventually.TrueAsync(() => _web.Carrier.AlertMessages().Count >= sent, TimeSpan.FromSeconds(90), $"{sent} messages to be sent");
            _web.KillOneWorkerProcess();
            _web.StartWorkerProcess();
        }

        var alert = await AlertNetTestApp.WaitUntilSettledAsync(organizer, id, numbers.Length, TimeSpan.FromSeconds(120));

        Assert.Equal(numbers.Length, alert.GetProperty("counts").GetProperty("delivered").GetInt32());
        Assert.All(numbers, number => Assert.Equal(1, _web.Carrier.AlertCountTo(number)));
    }
}
