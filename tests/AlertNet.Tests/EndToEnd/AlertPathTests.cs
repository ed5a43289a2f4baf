using System.Net;
using AlertNet.Infrastructure.Auth;
using AlertNet.Infrastructure.Twilio;
using AlertNet.Infrastructure.Twilio.Drill;
using AlertNet.Tests.Support;
using Dapper;

namespace AlertNet.Tests.EndToEnd;

/// <summary>The whole path in drill mode: subscribers text keywords, an organizer triggers an alert,
/// Hangfire sends it through the Twilio SDK to the carrier simulator, and the signed status callbacks
/// come back and show in the alert's counts.</summary>
public sealed class AlertPathTests : IAsyncLifetime
{
    // Fictional numbers (555-01xx).
    private const string Ana = "+12025550101";
    private const string Beto = "+12025550102";
    private const string Carla = "+12025550103";

    private AlertNetTestApp _app = null!;

    public async Task InitializeAsync() => _app = await AlertNetTestApp.StartAsync();

    public async Task DisposeAsync() => await _app.DisposeAsync();

    [Fact]
    public async Task Subscribers_who_join_get_the_alert_once_in_their_language_and_callbacks_show_it_delivered()
    {
        var english = await _app.TextAsync(Ana, "JOIN");
        var spanish = await _app.TextAsync(Beto, "¡Únete!");
        Assert.Contains("Msg & data rates may apply", english);
        Assert.Contains("STOP", english);
        Assert.Contains("HELP", english);
        Assert.Contains("Pueden aplicar tarifas de mensajes y datos", spanish);
        Assert.Contains("ALTO", spanish);

        var organizer = await _app.ClientWithRoleAsync(Roles.Organizer);
        var id = await AlertNetTestApp.TriggerAlertAsync(organizer, new
        {
            type = "urgent",
            bodies = new Dictionary<string, string> { ["en"] = "Agents seen at 5th and Main", ["es"] = "Agentes vistos en 5a y Main" },
        });

        var alert = await AlertNetTestApp.WaitUntilSettledAsync(organizer, id, expectedRecipients: 2);
        Assert.Equal(2, alert.GetProperty("recipients").GetInt32());
        Assert.Equal(2, alert.GetProperty("counts").GetProperty("delivered").GetInt32());
        Assert.Equal("done", alert.GetProperty("state").GetString());

        var toAna = Assert.Single(_app.Carrier.AlertMessages(), m => m.To == Ana);
        var toBeto = Assert.Single(_app.Carrier.AlertMessages(), m => m.To == Beto);
        Assert.Equal("Agents seen at 5th and Main", toAna.Body);
        Assert.Equal("Agentes vistos en 5a y Main", toBeto.Body);
    }

    [Fact]
    public async Task Stop_before_an_alert_means_no_message_to_that_number()
    {
        await _app.TextAsync(Ana, "JOIN");
        await _app.TextAsync(Beto, "UNIRSE");
        var confirmation = await _app.TextAsync(Beto, "alto");
        Assert.Contains("INICIO", confirmation);
        var second = await _app.TextAsync(Beto, "STOP");
        Assert.Null(second);

        var organizer = await _app.ClientWithRoleAsync(Roles.Organizer);
        var id = await AlertNetTestApp.TriggerAlertAsync(organizer, new { type = "urgent", bodies = new { en = "Checkpoint on Route 9" } });
        await AlertNetTestApp.WaitUntilSettledAsync(organizer, id, expectedRecipients: 1);

        Assert.Equal(1, _app.Carrier.AlertCountTo(Ana));
        Assert.Equal(0, _app.Carrier.AlertCountTo(Beto));
    }

    [Fact]
    public async Task Forged_unsigned_and_tampered_webhooks_get_403_and_change_nothing()
    {
        var fields = AlertNetTestApp.InboundFields(Carla, "JOIN");

        var unsigned = await _app.Http.PostAsync("/webhooks/twilio/inbound", new FormUrlEncodedContent(fields));
        var forged = await _app.PostSignedAsync("/webhooks/twilio/inbound", fields, authToken: "not-the-token");

        var tampered = new HttpRequestMessage(HttpMethod.Post, "/webhooks/twilio/inbound")
        {
            Content = new FormUrlEncodedContent(new Dictionary<string, string>(fields) { ["Body"] = "STOP" }),
        };
        tampered.Headers.Add("X-Twilio-Signature",
            TwilioSignature.Compute(_app.Settings["Twilio:DrillAuthToken"]!, _app.BaseUrl + "/webhooks/twilio/inbound", fields));
        var tamperedResponse = await _app.Http.SendAsync(tampered);

        var forgedStatus = await _app.PostSignedAsync("/webhooks/twilio/status?deliveryId=1",
            new Dictionary<string, string> { ["MessageSid"] = "SMx", ["MessageStatus"] = "delivered" }, authToken: "not-the-token");

        Assert.Equal(HttpStatusCode.Forbidden, unsigned.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, forged.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, tamperedResponse.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, forgedStatus.StatusCode);
        await using var connection = await _app.Db.OpenConnectionAsync();
        Assert.Equal(0, await connection.ExecuteScalarAsync<int>("SELECT count(*) FROM subscribers"));
        Assert.Equal(0, await connection.ExecuteScalarAsync<int>("SELECT count(*) FROM inbound_messages"));
    }

    [Fact]
    public async Task Repeated_and_out_of_order_callbacks_never_move_a_delivery_backward()
    {
        await _app.TextAsync(Ana, "JOIN");
        var organizer = await _app.ClientWithRoleAsync(Roles.Organizer);
        var id = await AlertNetTestApp.TriggerAlertAsync(organizer, new { type = "urgent", bodies = new { en = "Test" } });
        await AlertNetTestApp.WaitUntilSettledAsync(organizer, id, expectedRecipients: 1);

        await using var connection = await _app.Db.OpenConnectionAsync();
        var deliveryId = await connection.QuerySingleAsync<long>("SELECT id FROM deliveries WHERE alert_id = @id", new { id });
        var sid = Assert.Single(_app.Carrier.AlertMessages()).Sid;
        foreach (var status in new[] { "sent", "queued", "delivered", "sent" })
        {
            var response = await _app.PostSignedAsync($"/webhooks/twilio/status?deliveryId={deliveryId}",
                new Dictionary<string, string> { ["MessageSid"] = sid, ["MessageStatus"] = status, ["AccountSid"] = "AC1" });
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        Assert.Equal("delivered", await connection.ExecuteScalarAsync<string>("SELECT state FROM deliveries WHERE id = @deliveryId", new { deliveryId }));
        var alert = await AlertNetTestApp.GetAlertAsync(organizer, id);
        Assert.Equal(1, alert.GetProperty("counts").GetProperty("delivered").GetInt32());
        Assert.Equal(0, alert.GetProperty("counts").GetProperty("sent").GetInt32());
    }

    [Fact]
    public async Task A_repeated_inbound_MessageSid_is_processed_once()
    {
        var fields = AlertNetTestApp.InboundFields(Ana, "JOIN");
        var first = await _app.PostInboundAsync(fields);
        var retry = await _app.PostInboundAsync(fields);

        Assert.NotNull(first);
        Assert.Null(retry);
        await using var connection = await _app.Db.OpenConnectionAsync();
        Assert.Equal(1, await connection.ExecuteScalarAsync<int>("SELECT count(*) FROM inbound_messages"));
    }

    [Fact]
    public async Task Magic_numbers_end_in_the_carrier_outcome_with_its_error_code()
    {
        string[] numbers = ["+15005550001", "+15005550004", "+15005550030", "+15005550060", Ana];
        foreach (var number in numbers)
        {
            await _app.TextAsync(number, "JOIN");
        }

        var organizer = await _app.ClientWithRoleAsync(Roles.Organizer);
        var id = await AlertNetTestApp.TriggerAlertAsync(organizer, new { type = "urgent", bodies = new { en = "Test" } });
        // 21610 means the person texted STOP to Twilio: Twilio refused AlertNet's JOIN confirmation with it, so AlertNet
        // opted them out too, and the alert does not go to them.
        var alert = await AlertNetTestApp.WaitUntilSettledAsync(organizer, id, expectedRecipients: numbers.Length - 1);

        var counts = alert.GetProperty("counts");
        Assert.Equal(1, counts.GetProperty("delivered").GetInt32());
        Assert.Equal(1, counts.GetProperty("undelivered").GetInt32());
        Assert.Equal(2, counts.GetProperty("failed").GetInt32());
        await using var connection = await _app.Db.OpenConnectionAsync();
        var codes = (await connection.QueryAsync<int>("SELECT error_code FROM deliveries WHERE error_code IS NOT NULL ORDER BY 1")).ToArray();
        Assert.Equal([21211, 30003, 30006], codes);
        Assert.Equal(1, await connection.ExecuteScalarAsync<int>("SELECT count(*) FROM subscribers WHERE status = 'opted_out'"));
        Assert.Equal(0, _app.Carrier.AlertCountTo("+15005550004"));
    }

    [Fact]
    public async Task A_send_whose_answer_was_lost_after_Twilio_accepted_it_is_not_sent_again()
    {
        // The simulator accepts a message to this number, then drops the connection before answering.
        const string number = DrillMagicNumbers.ConnectionDropsAfterAccept;
        await _app.TextAsync(number, "JOIN");
        var organizer = await _app.ClientWithRoleAsync(Roles.Organizer);

        var id = await AlertNetTestApp.TriggerAlertAsync(organizer, new { type = "urgent", bodies = new { en = "Test" } });
        var alert = await AlertNetTestApp.WaitUntilSettledAsync(organizer, id, expectedRecipients: 1);

        Assert.Equal(1, alert.GetProperty("counts").GetProperty("delivered").GetInt32());
        Assert.Equal(1, _app.Carrier.AlertCountTo(number));
        // The message Twilio accepted became this delivery's (its status callbacks carry the delivery id): it was not sent
        // again, and once final it is deleted at the carrier like any other.
        var sid = _app.Carrier.AlertMessages().Single(m => m.To == number).Sid;
        await Eventually.TrueAsync(() => _app.Carrier.FindHeld(sid) is null, TimeSpan.FromSeconds(30), "the message to be deleted at the carrier");
    }

    [Fact]
    public async Task A_language_keyword_changes_the_language_alerts_arrive_in()
    {
        await _app.TextAsync(Ana, "JOIN");
        var reply = await _app.TextAsync(Ana, "Español");
        Assert.Contains("en español", reply, StringComparison.Ordinal);
        var organizer = await _app.ClientWithRoleAsync(Roles.Organizer);

        var id = await AlertNetTestApp.TriggerAlertAsync(organizer, new { type = "urgent", bodies = new { en = "Stay home", es = "Quédate en casa" } });
        await AlertNetTestApp.WaitUntilSettledAsync(organizer, id, expectedRecipients: 1);

        Assert.Equal("Quédate en casa", Assert.Single(_app.Carrier.AlertMessages()).Body);
    }

    [Fact]
    public async Task A_subscriber_whose_language_the_alert_lacks_gets_the_default_language()
    {
        await _app.TextAsync(Beto, "UNETE");
        var organizer = await _app.ClientWithRoleAsync(Roles.Organizer);

        var id = await AlertNetTestApp.TriggerAlertAsync(organizer, new { type = "urgent", bodies = new { en = "Stay home" } });
        await AlertNetTestApp.WaitUntilSettledAsync(organizer, id, expectedRecipients: 1);

        Assert.Equal("Stay home", Assert.Single(_app.Carrier.AlertMessages()).Body);
    }

    [Fact]
    public async Task A_status_webhook_that_is_not_a_readable_form_gets_a_4xx_with_the_reason()
    {
        var json = await _app.Http.PostAsync("/webhooks/twilio/status?deliveryId=1",
            new StringContent("{\"MessageStatus\":\"delivered\"}", System.Text.Encoding.UTF8, "application/json"));
        var tooMany = await _app.Http.PostAsync("/webhooks/twilio/status?deliveryId=1",
            new FormUrlEncodedContent(Enumerable.Range(0, 1100).Select(i => KeyValuePair.Create($"f{i}", "x"))));

        Assert.Equal(HttpStatusCode.UnsupportedMediaType, json.StatusCode);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, tooMany.StatusCode);
    }
}
