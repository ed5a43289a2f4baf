using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using AlertNet.Infrastructure.Auth;
using AlertNet.Infrastructure.Twilio.Drill;
using AlertNet.Tests.Support;
using Dapper;
using AlertNet.Privacy;

namespace AlertNet.Tests.Delivery;

public sealed class DeliveryEngineTests : IAsyncLifetime
{
    private AlertNetTestApp _app = null!;
    private HttpClient _organizer = null!;

    public async Task InitializeAsync()
    {
        _app = await AlertNetTestApp.StartAsync(overrides: new Dictionary<string, string?>
        {
            // Slow enough that a test can act while an alert is still going out.
            ["Delivery:SegmentsPerSecond"] = "40",
            ["Delivery:BatchSize"] = "20",
        });
        _organizer = await _app.ClientWithRoleAsync(Roles.Organizer);
    }

    public async Task DisposeAsync() => await _app.DisposeAsync();

    [Fact]
    public async Task A_429_from_Twilio_is_retried_and_the_message_goes_out_once()
    {
        await _app.TextAsync(DrillMagicNumbers.BusyOnFirstTry, "JOIN");

        var id = await AlertNetTestApp.TriggerAlertAsync(_organizer, new { type = "urgent", bodies = new { en = "Test" } });
        var alert = await AlertNetTestApp.WaitUntilSettledAsync(_organizer, id, expectedRecipients: 1);

        Assert.Equal(1, alert.GetProperty("counts").GetProperty("delivered").GetInt32());
        Assert.Equal(1, _app.Carrier.AlertCountTo(DrillMagicNumbers.BusyOnFirstTry));
        Assert.Equal(2, _app.Carrier.CreateRequests);
    }

    [Fact]
    public async Task Cancel_stops_sending_and_cancels_what_was_not_sent()
    {
        var numbers = AlertNetTestApp.Numbers(200);
        await _app.JoinAllAsync(numbers);
        var id = await AlertNetTestApp.TriggerAlertAsync(_organizer, new { type = "urgent", bodies = new { en = "Test" } });
        await Eventually.TrueAsync(() => _app.Carrier.AlertMessages().Count >= 20, TimeSpan.FromSeconds(30), "the alert to start going out");

        var response = await _organizer.PostAsync($"/api/alerts/{id}/cancel", null);
        var sentAtCancel = _app.Carrier.AlertMessages().Count;

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var alert = await Eventually.ValueAsync(() => AlertNetTestApp.GetAlertAsync(_organizer, id),
            a => a.GetProperty("counts").GetProperty("sending").GetInt32() == 0, TimeSpan.FromSeconds(30));
        Assert.Equal("cancelled", alert.GetProperty("state").GetString());
        var counts = alert.GetProperty("counts");
        var handedToTwilio = new[] { "accepted", "sent", "delivered" }.Sum(s => counts.GetProperty(s).GetInt32());
        Assert.Equal(200, handedToTwilio + counts.GetProperty("cancelled").GetInt32());
        // Nothing cancelled went out, and at most the requests already in flight followed the cancel.
        Assert.Equal(handedToTwilio, _app.Carrier.AlertMessages().Count);
        Assert.InRange(handedToTwilio, sentAtCancel, sentAtCancel + 40);
        Assert.Equal(HttpStatusCode.Conflict, (await _organizer.PostAsync($"/api/alerts/{id}/cancel", null)).StatusCode);
    }

    [Fact]
    public async Task An_alert_that_expired_before_it_went_out_is_never_sent_late()
    {
        await _app.TextAsync("+12025550121", "JOIN");
        var id = await AlertNetTestApp.TriggerAlertAsync(_organizer, new
        {
            type = "urgent",
            bodies = new { en = "Agents at the bus stop" },
            sendAt = DateTimeOffset.UtcNow.AddSeconds(3),
            expiresInMinutes = 5,
        });
        await using (var connection = await _app.Db.OpenConnectionAsync())
        {
            // As if the send had been held up past the alert's validity.
            await connection.ExecuteAsync("UPDATE alerts SET expires_at = now() WHERE id = @id", new { id });
        }

        var alert = await AlertNetTestApp.WaitUntilSettledAsync(_organizer, id, expectedRecipients: 1);

        Assert.Equal(1, alert.GetProperty("counts").GetProperty("expired").GetInt32());
        Assert.Empty(_app.Carrier.AlertMessages());
    }

    [Fact]
    public async Task A_scheduled_alert_goes_out_at_its_time_with_a_validity_period_from_its_expiry()
    {
        await _app.TextAsync("+12025550122", "JOIN");
        var sendAt = DateTimeOffset.UtcNow.AddSeconds(2);

        var id = await AlertNetTestApp.TriggerAlertAsync(_organizer, new
        {
            type = "urgent",
            bodies = new { en = "Meeting moved" },
            sendAt,
            expiresInMinutes = 30,
        });
        Assert.Equal("queued", (await AlertNetTestApp.GetAlertAsync(_organizer, id)).GetProperty("state").GetString());
        await AlertNetTestApp.WaitUntilSettledAsync(_organizer, id, expectedRecipients: 1);

        var message = Assert.Single(_app.Carrier.AlertMessages());
        Assert.True(message.DateCreated >= sendAt.AddMilliseconds(-50), $"sent at {message.DateCreated:O}, scheduled for {sendAt:O}");
        Assert.InRange(message.ValidityPeriod ?? 0, 1700, 1800);
    }

    [Fact]
    public async Task An_urgent_alert_overtakes_a_bulk_campaign_already_sending()
    {
        var numbers = AlertNetTestApp.Numbers(300);
        await _app.JoinAllAsync(numbers);
        // 300 messages at 40 a second: the campaign takes over 7 seconds.
        var campaign = await AlertNetTestApp.TriggerAlertAsync(_organizer, new { type = "know_your_rights", bodies = new { en = "Know your rights" } });
        await Eventually.TrueAsync(() => _app.Carrier.AlertMessages().Count >= 10, TimeSpan.FromSeconds(30), "the campaign to start");

        var urgent = await AlertNetTestApp.TriggerAlertAsync(_organizer, new { type = "urgent", bodies = new { en = "RAID NOW" } });
        await Eventually.TrueAsync(() => _app.Carrier.AlertMessages().Count(m => m.Body == "RAID NOW") == 300, TimeSpan.FromSeconds(120), "the alert to reach everyone");

        // The urgent alert reached everyone while the campaign was still waiting its turn.
        var campaignSent = _app.Carrier.AlertMessages().Count(m => m.Body == "Know your rights");
        Assert.True(campaignSent < 300, $"the campaign had already sent {campaignSent} of 300");
        await AlertNetTestApp.WaitUntilSettledAsync(_organizer, campaign, expectedRecipients: 300);
        await AlertNetTestApp.WaitUntilSettledAsync(_organizer, urgent, expectedRecipients: 300);
    }

    [Fact]
    public async Task Preview_shows_recipients_segments_cost_and_time_per_language()
    {
        await _app.JoinAllAsync(AlertNetTestApp.Numbers(3));
        await _app.TextAsync("+12025550131", "UNETE");

        var response = await _organizer.PostAsJsonAsync("/api/alerts/preview", new
        {
            bodies = new Dictionary<string, string>
            {
                ["en"] = "Agents at 5th and Main. Stay inside.",
                ["es"] = "Agentes en la 5a y Main. Quédate adentro, por favor, está cerca.",
            },
        });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var preview = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(4, preview.GetProperty("recipients").GetInt64());
        var languages = preview.GetProperty("languages").EnumerateArray().ToDictionary(l => l.GetProperty("language").GetString()!);
        Assert.Equal(3, languages["en"].GetProperty("recipients").GetInt64());
        Assert.Equal("GSM-7", languages["en"].GetProperty("encoding").GetString());
        // "á" is not in GSM-7 ("é" is): the whole Spanish text goes as UCS-2.
        Assert.Equal("UCS-2", languages["es"].GetProperty("encoding").GetString());
        Assert.Contains("á", languages["es"].GetProperty("unicodeCharacters").EnumerateArray().Select(c => c.GetString()));
        Assert.Equal(4, preview.GetProperty("segments").GetInt64());
        Assert.Equal(4 / 40.0, preview.GetProperty("estimatedSeconds").GetDouble(), 3);
    }

    [Fact]
    public async Task Stop_during_an_alert_in_flight_means_nothing_more_reaches_that_number()
    {
        var numbers = AlertNetTestApp.Numbers(200);
        await _app.JoinAllAsync(numbers);
        var id = await AlertNetTestApp.TriggerAlertAsync(_organizer, new { type = "urgent", bodies = new { en = "Test" } });
        await Eventually.TrueAsync(() => _app.Carrier.AlertMessages().Count >= 20, TimeSpan.FromSeconds(30), "the alert to start going out");

        // Deliveries go out in id order: the last one is still waiting.
        string last;
        await using (var connection = await _app.Db.OpenConnectionAsync())
        {
            var row = await connection.QuerySingleAsync<(long Id, byte[] Cipher)>(
                "SELECT s.id, s.phone_cipher FROM deliveries d JOIN subscribers s ON s.id = d.subscriber_id ORDER BY d.id DESC LIMIT 1");
            last = _app.Protector.Decrypt(row.Cipher, CipherPlaces.SubscriberPhone(row.Id));
        }

        var confirmation = await _app.TextAsync(last, "STOP");
        Assert.False(string.IsNullOrEmpty(confirmation));
        var alert = await AlertNetTestApp.WaitUntilSettledAsync(_organizer, id, expectedRecipients: 200);

        Assert.Equal(0, _app.Carrier.AlertCountTo(last));
        Assert.Equal(1, alert.GetProperty("counts").GetProperty("skipped").GetInt32());
        Assert.Equal(199, alert.GetProperty("counts").GetProperty("delivered").GetInt32());
    }
}
