using AlertNet.Infrastructure.Auth;
using AlertNet.Tests.Support;

namespace AlertNet.Tests.Delivery;

/// <summary>A claim's lease must cover its whole batch: found by the chaos command, where batches slowed by a busy machine
/// outlived their lease and another job sent the same deliveries again.</summary>
public sealed class ClaimLeaseTests : IAsyncLifetime
{
    private AlertNetTestApp _app = null!;

    public async Task InitializeAsync() => _app = await AlertNetTestApp.StartAsync(overrides: new Dictionary<string, string?>
    {
        // One batch of 150 at 20 segments a second takes about 7.5 s; the lease is 5 s.
        ["Delivery:BatchSize"] = "250",
        ["Delivery:ClaimLeaseSeconds"] = "5",
        ["Delivery:SegmentsPerSecond"] = "20",
        ["Delivery:SweepIntervalSeconds"] = "1",
        ["Delivery:StallSeconds"] = "2",
    });

    public async Task DisposeAsync() => await _app.DisposeAsync();

    [Fact]
    public async Task A_batch_that_takes_longer_than_its_lease_is_still_sent_once()
    {
        var numbers = AlertNetTestApp.Numbers(150);
        await _app.JoinAllAsync(numbers);
        var organizer = await _app.ClientWithRoleAsync(Roles.Organizer);

        var id = await AlertNetTestApp.TriggerAlertAsync(organizer, new { type = "urgent", bodies = new { en = "Raid reported" } });
        await AlertNetTestApp.WaitUntilSettledAsync(organizer, id, numbers.Length, TimeSpan.FromSeconds(90));

        var times = _app.Carrier.AlertMessages().Select(m => m.DateCreated).Order().ToList();
        // The batch really outlived the lease (a lower bound: a slow machine only makes it longer).
        Assert.True(times[^1] - times[0] > TimeSpan.FromSeconds(5), $"sent in {(times[^1] - times[0]).TotalSeconds:0.0} s");
        Assert.All(numbers, number => Assert.Equal(1, _app.Carrier.AlertCountTo(number)));
    }
}
