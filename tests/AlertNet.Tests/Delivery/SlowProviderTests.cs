using AlertNet.Infrastructure.Auth;
using AlertNet.Tests.Support;

namespace AlertNet.Tests.Delivery;

/// <summary>A provider slower than a claim's lease: found by the chaos command's fault scenario, where a send still in
/// flight lost its claim (renewal covered only what had not started), the sweeper took the delivery over and the same
/// message went out twice.</summary>
public sealed class SlowProviderTests : IAsyncLifetime
{
    private CarrierProxy _proxy = null!;
    private AlertNetTestApp _app = null!;

    public async Task InitializeAsync()
    {
        _proxy = new CarrierProxy(targetPort: 0) { SendDelay = TimeSpan.FromSeconds(12) };
        _app = await AlertNetTestApp.StartAsync(overrides: new Dictionary<string, string?>
        {
            ["Twilio:ApiBaseUrl"] = $"http://127.0.0.1:{_proxy.Port}/drill/twilio",
            // The request waits longer than the lease, and is not given up on.
            ["Twilio:RequestTimeoutSeconds"] = "30",
            ["Delivery:ClaimLeaseSeconds"] = "5",
            ["Delivery:SweepIntervalSeconds"] = "1",
            ["Delivery:StallSeconds"] = "2",
        });
        _proxy.TargetPort = new Uri(_app.BaseUrl).Port;
    }

    public async Task DisposeAsync()
    {
        await _app.DisposeAsync();
        await _proxy.DisposeAsync();
    }

    [Fact]
    public async Task A_send_that_outlasts_its_lease_is_not_sent_again()
    {
        var numbers = AlertNetTestApp.Numbers(3, first: 6300);
        await _app.JoinAllAsync(numbers);
        var organizer = await _app.ClientWithRoleAsync(Roles.Organizer);
        // The welcome replies go through the provider too.
        var sendsBefore = _proxy.Seen(CarrierMode.Up, "send");

        var id = await AlertNetTestApp.TriggerAlertAsync(organizer, new { type = "urgent", bodies = new { en = "Agents at the depot" } });
        await AlertNetTestApp.WaitUntilSettledAsync(organizer, id, numbers.Length, TimeSpan.FromSeconds(120));

        // Every request that reached the provider counts: one still in flight when the alert settled would reach the
        // carrier only after this test looked there.
        Assert.Equal(numbers.Length, _proxy.Seen(CarrierMode.Up, "send") - sendsBefore);
        Assert.All(numbers, number => Assert.Equal(1, _app.Carrier.AlertCountTo(number)));
    }
}
