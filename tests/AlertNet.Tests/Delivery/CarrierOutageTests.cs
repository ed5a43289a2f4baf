using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using AlertNet.Infrastructure.Auth;
using AlertNet.Infrastructure.Twilio.Drill;
using AlertNet.Tests.Support;
using Dapper;

namespace AlertNet.Tests.Delivery;

/// <summary>Twilio down in the middle of an alert: nothing ends the process, sending pauses and resumes on its own,
/// organizers are told, and every subscriber gets the alert exactly once. And the lookup after an unanswered send
/// adopts only this delivery's own message, never another alert's or a reply to the same person.</summary>
public sealed class CarrierOutageTests : IAsyncLifetime
{
    private CarrierProxy _proxy = null!;
    private AlertNetTestApp _app = null!;
    private HttpClient _organizer = null!;

    public async Task InitializeAsync()
    {
        _proxy = new CarrierProxy(targetPort: 0);
        _app = await AlertNetTestApp.StartAsync(overrides: new Dictionary<string, string?>
        {
            ["Twilio:ApiBaseUrl"] = $"http://127.0.0.1:{_proxy.Port}/drill/twilio",
            ["Twilio:RequestTimeoutSeconds"] = "2",
            ["Twilio:CircuitFailures"] = "3",
            ["Twilio:CircuitMaxPauseSeconds"] = "1",
            ["Twilio:ReplyWaitSeconds"] = "3",
            ["Delivery:SegmentsPerSecond"] = "40",
            ["Delivery:BatchSize"] = "20",
            ["Delivery:ClaimLeaseSeconds"] = "6",
            ["Delivery:SweepIntervalSeconds"] = "1",
            ["Delivery:StallSeconds"] = "3",
            ["Delivery:StatusCheckSeconds"] = "1",
            ["Delivery:SentNoReceiptSeconds"] = "5",
        });
        _proxy.TargetPort = new Uri(_app.BaseUrl).Port;
        _organizer = await _app.ClientWithRoleAsync(Roles.Organizer);
    }

    public async Task DisposeAsync()
    {
        await _app.DisposeAsync();
        await _proxy.DisposeAsync();
    }

    [Fact]
    public async Task Twilio_down_mid_alert_pauses_sending_says_so_and_then_everyone_gets_it_once()
    {
        var numbers = AlertNetTestApp.Numbers(150, first: 6100).Append(DrillMagicNumbers.NoReceipt).ToArray();
        await _app.JoinAllAsync(numbers);
        var id = await AlertNetTestApp.TriggerAlertAsync(_organizer, new { type = "urgent", bodies = new { en = "Agents at the depot" } });
        await Eventually.TrueAsync(() => _app.Carrier.AlertMessages().Count >= 30, TimeSpan.FromSeconds(60), "the alert to be under way");

        _proxy.Mode = CarrierMode.Refuse;
        var overview = await Eventually.ValueAsync(() => _organizer.GetFromJsonAsync<JsonElement>("/api/overview"),
            o => o.GetProperty("carrierOutages").GetArrayLength() > 0, TimeSpan.FromSeconds(30), () => "the outage to show");
        Assert.True(overview.GetProperty("carrierOutages")[0].TryGetProperty("downSince", out _));
        var ready = await _app.Http.GetFromJsonAsync<JsonElement>("/readyz");
        Assert.Contains("unreachable since", ready.GetProperty("provider").GetString(), StringComparison.Ordinal);
        using (var page = await (await _app.ClientWithRoleAsync(Roles.Organizer)).GetAsync($"/alerts/{id}"))
        {
            // The alert page is for signed-in users; the API token is enough to see that the banner is rendered for them.
            Assert.True(page.StatusCode is HttpStatusCode.OK or HttpStatusCode.Redirect or HttpStatusCode.Unauthorized);
        }

        // While it is down: no more messages reach the carrier, and the process keeps serving.
        var sentWhileDown = _app.Carrier.AlertMessages().Count;
        Assert.Equal(HttpStatusCode.OK, (await _app.Http.GetAsync("/healthz")).StatusCode);

        _proxy.Mode = CarrierMode.Up;
        var alert = await AlertNetTestApp.WaitUntilSettledAsync(_organizer, id, expectedRecipients: numbers.Length, TimeSpan.FromSeconds(120));

        Assert.True(_app.Carrier.AlertMessages().Count > sentWhileDown);
        Assert.Equal(numbers.Length - 1, alert.GetProperty("counts").GetProperty("delivered").GetInt32());
        Assert.Equal(1, alert.GetProperty("counts").GetProperty("sent_no_receipt").GetInt32());
        var received = _app.Carrier.AlertCountsByRecipient();
        Assert.Equal(numbers.Length, received.Count);
        Assert.All(numbers, n => Assert.Equal(1, received[n]));
        await Eventually.ValueAsync(() => _organizer.GetFromJsonAsync<JsonElement>("/api/overview"),
            o => o.GetProperty("carrierOutages").GetArrayLength() == 0, TimeSpan.FromSeconds(30), () => "the outage to clear");
        await using var db = await _app.Db.OpenConnectionAsync();
        Assert.Equal(0, await db.ExecuteScalarAsync<long>("SELECT count(*) FROM hangfire.job WHERE statename = 'Failed'"));
    }

    [Fact]
    public async Task After_an_unanswered_send_only_this_deliverys_own_message_is_adopted()
    {
        // This number's messages stay at "sent" (no receipt), so the first alert's message is still listed at the carrier,
        // to the same person, when the second alert's unanswered send is looked for.
        const string person = DrillMagicNumbers.NoReceipt;
        Assert.NotNull(await _app.TextAsync(person, "JOIN"));
        var first = await AlertNetTestApp.TriggerAlertAsync(_organizer, new { type = "urgent", bodies = new { en = "Agents at the depot" } });
        await Eventually.ValueAsync(() => AlertNetTestApp.GetAlertAsync(_organizer, first),
            a => Sent(a) == 1, TimeSpan.FromSeconds(30), () => "the first alert to be sent");

        // The second alert's send never gets an answer (and never reached the carrier): it must be sent, not matched with
        // the first alert's message or the JOIN reply.
        _proxy.Mode = CarrierMode.Hang;
        var second = await AlertNetTestApp.FollowUpAsync(_organizer, first, "correction", new { en = "Correction: the depot is clear" });
        await Eventually.TrueAsync(() => _proxy.Seen(CarrierMode.Hang, "send") > 0, TimeSpan.FromSeconds(30), "the second send to hang");
        _proxy.Mode = CarrierMode.Up;

        await Eventually.ValueAsync(() => AlertNetTestApp.GetAlertAsync(_organizer, second),
            a => Sent(a) == 1, TimeSpan.FromSeconds(60), () => "the second alert to be sent");
        var bodies = _app.Carrier.ReceivedBy(person).Where(CarrierViews.IsAlert).Select(m => m.Body).ToList();
        Assert.Equal(["Agents at the depot", "Correction: the depot is clear"], bodies);
        Assert.True(_proxy.Seen(CarrierMode.Up, "find") > 0, "the unanswered send was looked for before sending again");
    }

    /// <summary>Taken by the carrier: still waiting for a receipt, or settled without one.</summary>
    private static int Sent(JsonElement alert) =>
        alert.GetProperty("counts").GetProperty("sent").GetInt32() + alert.GetProperty("counts").GetProperty("sent_no_receipt").GetInt32();
}
