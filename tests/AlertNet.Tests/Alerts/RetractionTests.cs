using AlertNet.Infrastructure.Auth;
using AlertNet.Tests.Support;

namespace AlertNet.Tests.Alerts;

/// <summary>A false alert retracted while it is still going out, with two processes sending it: the copies not sent yet
/// stop in both, and the retraction reaches exactly the people who got the false alert (nobody else: those who never got
/// it are not told about it).</summary>
public sealed class RetractionTests : IAsyncLifetime
{
    private const int People = 80;
    private AlertNetTestApp _app = null!;

    public async Task InitializeAsync()
    {
        _app = await AlertNetTestApp.StartAsync(overrides: new Dictionary<string, string?>
        {
            // Slow enough that the retraction lands mid-alert: 80 texts take 8 s at 10 a second (shared by both processes).
            ["Delivery:SegmentsPerSecond"] = "10",
            ["Delivery:BatchSize"] = "10",
        });
        _app.StartWorkerProcess();
        await _app.WaitForWorkerProcessesAsync(1);
    }

    public async Task DisposeAsync() => await _app.DisposeAsync();

    [Fact]
    public async Task A_retraction_stops_the_false_alert_everywhere_and_reaches_only_those_who_got_it()
    {
        var numbers = AlertNetTestApp.Numbers(People, first: 7100);
        await _app.JoinAllAsync(numbers);
        var organizer = await _app.ClientWithRoleAsync(Roles.Organizer);
        var original = await AlertNetTestApp.TriggerAlertAsync(organizer, new { type = "urgent", bodies = new { en = "Raid at the school" } });
        await Eventually.TrueAsync(() => _app.Carrier.AlertMessages().Count >= 15, TimeSpan.FromSeconds(60), "the false alert to be under way");

        var retraction = await AlertNetTestApp.FollowUpAsync(organizer, original, "retraction",
            new { en = "RETRACTED: the raid report at the school was false" });
        var settled = await Eventually.ValueAsync(() => AlertNetTestApp.GetAlertAsync(organizer, retraction),
            a => a.GetProperty("state").GetString() == "done"
                 && AlertNet.Delivery.DeliveryState.Final.Sum(s => a.GetProperty("counts").GetProperty(s).GetInt32()) == a.GetProperty("recipients").GetInt32(),
            TimeSpan.FromSeconds(90), () => "the retraction to settle");

        var falseAlert = _app.Carrier.AlertMessages().Where(m => m.Body == "Raid at the school").Select(m => m.To).ToList();
        var retracted = _app.Carrier.AlertMessages().Where(m => m.Body!.StartsWith("RETRACTED", StringComparison.Ordinal)).Select(m => m.To).ToList();
        Assert.True(falseAlert.Count < People, $"the false alert was stopped ({falseAlert.Count} of {People} sent)");
        Assert.Equal(falseAlert.Distinct().Count(), falseAlert.Count);
        Assert.Equal(falseAlert.Order(), retracted.Order());
        Assert.Equal(falseAlert.Count, settled.GetProperty("recipients").GetInt32());

        var originalView = await AlertNetTestApp.GetAlertAsync(organizer, original);
        Assert.Equal("cancelled", originalView.GetProperty("state").GetString());
        Assert.Equal(People - falseAlert.Count, originalView.GetProperty("counts").GetProperty("cancelled").GetInt32());
    }
}
