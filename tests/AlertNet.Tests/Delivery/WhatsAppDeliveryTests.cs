using System.Text.Json;
using AlertNet.Infrastructure.Auth;
using AlertNet.Infrastructure.Twilio.Drill;
using AlertNet.Tests.Support;
using Dapper;

namespace AlertNet.Tests.Delivery;

public sealed class WhatsAppDeliveryTests : IAsyncLifetime
{
    private const string Number = "+12025550151";
    private const string UrgentTemplate = "HX00000000000000000000000000000001";
    private AlertNetTestApp _app = null!;
    private HttpClient _organizer = null!;

    public async Task InitializeAsync()
    {
        _app = await AlertNetTestApp.StartAsync(overrides: new Dictionary<string, string?>
        {
            ["WhatsApp:Templates:urgent:en"] = UrgentTemplate,
        });
        _organizer = await _app.ClientWithRoleAsync(Roles.Organizer);
    }

    public async Task DisposeAsync() => await _app.DisposeAsync();

    [Fact]
    public async Task A_subscriber_who_wrote_on_WhatsApp_today_gets_the_alert_there_as_free_text()
    {
        await _app.TextAsync("whatsapp:" + Number, "JOIN");

        await SendAsync("urgent", "Agents at the clinic ✋", recipients: 1);

        var message = Assert.Single(_app.Carrier.AlertMessages());
        Assert.Equal("whatsapp:" + Number, message.To);
        Assert.Equal("Agents at the clinic ✋", message.Body);
    }

    [Fact]
    public async Task Outside_the_24_hour_window_WhatsApp_gets_the_approved_template_with_the_text()
    {
        await _app.TextAsync("whatsapp:" + Number, "JOIN");
        await LastWroteDaysAgoAsync(2);

        await SendAsync("urgent", "Agents at the clinic", recipients: 1);

        var message = Assert.Single(_app.Carrier.AlertMessages());
        Assert.Equal("whatsapp:" + Number, message.To);
        Assert.Equal(UrgentTemplate, message.ContentSid);
        Assert.Equal("Agents at the clinic", JsonDocument.Parse(message.ContentVariables!).RootElement.GetProperty("1").GetString());
    }

    [Fact]
    public async Task Without_a_template_a_person_subscribed_on_both_channels_gets_one_SMS()
    {
        await _app.TextAsync("whatsapp:" + Number, "JOIN");
        await _app.TextAsync(Number, "JOIN");
        await LastWroteDaysAgoAsync(2);

        await SendAsync("know_your_rights", "Know your rights: you may stay silent", recipients: 1);

        Assert.Equal(Number, Assert.Single(_app.Carrier.AlertMessages()).To);
        await using var connection = await _app.Db.OpenConnectionAsync();
        Assert.Equal("sms", await connection.ExecuteScalarAsync<string>("SELECT channel FROM deliveries"));
    }

    [Fact]
    public async Task When_WhatsApp_refuses_the_message_it_goes_by_SMS_instead()
    {
        const string number = DrillMagicNumbers.WhatsAppOutsideWindow;
        await _app.TextAsync("whatsapp:" + number, "JOIN");
        await _app.TextAsync(number, "JOIN");

        var alert = await SendAsync("know_your_rights", "Know your rights", recipients: 1);

        Assert.Equal(1, alert.GetProperty("counts").GetProperty("delivered").GetInt32());
        Assert.Equal(1, _app.Carrier.AlertCountTo(number));
        Assert.Equal(0, _app.Carrier.AlertCountTo("whatsapp:" + number));
    }

    [Fact]
    public async Task With_no_way_to_reach_a_WhatsApp_subscriber_the_delivery_fails_with_63016()
    {
        await _app.TextAsync("whatsapp:" + Number, "JOIN");
        await LastWroteDaysAgoAsync(2);

        var alert = await SendAsync("know_your_rights", "Know your rights", recipients: 1);

        Assert.Equal(1, alert.GetProperty("counts").GetProperty("failed").GetInt32());
        Assert.Empty(_app.Carrier.AlertMessages());
    }

    private async Task<JsonElement> SendAsync(string type, string text, int recipients)
    {
        var id = await AlertNetTestApp.TriggerAlertAsync(_organizer, new { type, bodies = new { en = text } });
        return await AlertNetTestApp.WaitUntilSettledAsync(_organizer, id, recipients);
    }

    private async Task LastWroteDaysAgoAsync(int days)
    {
        await using var connection = await _app.Db.OpenConnectionAsync();
        await connection.ExecuteAsync("UPDATE subscribers SET last_whatsapp_inbound_at = now() - make_interval(days => @days)", new { days });
    }
}
