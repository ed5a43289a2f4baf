using System.Net;
using System.Net.Http.Json;
using AlertNet.Infrastructure.Auth;
using AlertNet.Tests.Support;

namespace AlertNet.Tests.Alerts;

public sealed class AlertApiTests : IAsyncLifetime
{
    private AlertNetTestApp _app = null!;

    public async Task InitializeAsync() => _app = await AlertNetTestApp.StartAsync();

    public async Task DisposeAsync() => await _app.DisposeAsync();

    [Fact]
    public async Task Only_organizers_and_admins_trigger_alerts_and_only_staff_read_them()
    {
        var alert = new { type = "urgent", bodies = new { en = "Test" } };
        var anonymous = _app.Http;
        var coordinator = await _app.ClientWithRoleAsync(Roles.Coordinator);
        var organizer = await _app.ClientWithRoleAsync(Roles.Organizer);
        var admin = await _app.ClientWithRoleAsync(Roles.Admin);
        using var forged = new HttpClient { BaseAddress = new Uri(_app.BaseUrl) };
        forged.DefaultRequestHeaders.Authorization = new("Bearer", "an_not-a-real-token");

        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.PostAsJsonAsync("/api/alerts", alert)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await forged.PostAsJsonAsync("/api/alerts", alert)).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await coordinator.PostAsJsonAsync("/api/alerts", alert)).StatusCode);
        Assert.Equal(HttpStatusCode.Created, (await admin.PostAsJsonAsync("/api/alerts", alert)).StatusCode);
        var id = await AlertNetTestApp.TriggerAlertAsync(organizer, alert);

        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync($"/api/alerts/{id}")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await coordinator.GetAsync($"/api/alerts/{id}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await coordinator.GetAsync("/api/alerts/999999")).StatusCode);
    }

    [Theory]
    [InlineData("""{"type":"raid","bodies":{"en":"x"}}""", "type must be one of")]
    [InlineData("""{"type":"urgent"}""", "bodies needs at least one language")]
    [InlineData("""{"type":"urgent","bodies":{"en":"  "}}""", "bodies needs at least one language")]
    [InlineData("""{"type":"urgent","bodies":{"en":"x"},"groups":["nowhere"]}""", "Unknown group(s): nowhere")]
    [InlineData("""{"type":"urgent","bodies":{"en":"x"},"expiresInMinutes":0}""", "expiresInMinutes")]
    public async Task Bad_alert_requests_get_400_with_the_reason(string json, string reason)
    {
        var organizer = await _app.ClientWithRoleAsync(Roles.Organizer);
        var response = await organizer.PostAsync("/api/alerts", new StringContent(json, System.Text.Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains(reason, await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_urgent_alert_expires_after_six_hours_unless_the_organizer_chooses_otherwise()
    {
        await _app.TextAsync("+12025557301", "JOIN");
        var organizer = await _app.ClientWithRoleAsync(Roles.Organizer);
        var before = DateTimeOffset.UtcNow;

        var urgent = await AlertNetTestApp.TriggerAlertAsync(organizer, new { type = "urgent", bodies = new { en = "Agents at the depot" } });
        var chosen = await AlertNetTestApp.TriggerAlertAsync(organizer, new { type = "urgent", bodies = new { en = "Checkpoint" }, expiresInMinutes = 30 });
        var rights = await AlertNetTestApp.TriggerAlertAsync(organizer, new { type = "know_your_rights", bodies = new { en = "You may stay silent" } });

        var expiresAt = (await AlertNetTestApp.GetAlertAsync(organizer, urgent)).GetProperty("expiresAt").GetDateTimeOffset();
        Assert.InRange(expiresAt, before.AddMinutes(360), DateTimeOffset.UtcNow.AddMinutes(360));
        var chosenAt = (await AlertNetTestApp.GetAlertAsync(organizer, chosen)).GetProperty("expiresAt").GetDateTimeOffset();
        Assert.InRange(chosenAt, before.AddMinutes(30), DateTimeOffset.UtcNow.AddMinutes(30));
        Assert.Equal(System.Text.Json.JsonValueKind.Null, (await AlertNetTestApp.GetAlertAsync(organizer, rights)).GetProperty("expiresAt").ValueKind);

        // The provider is told too: it drops a copy still queued at the expiry.
        await AlertNetTestApp.WaitUntilSettledAsync(organizer, urgent, expectedRecipients: 1);
        var sent = Assert.Single(_app.Carrier.AlertMessages(), m => m.Body == "Agents at the depot");
        Assert.InRange(sent.ValidityPeriod!.Value, 21_000, 21_600);
    }

    [Fact]
    public async Task A_body_over_Twilios_1600_character_limit_is_refused()
    {
        var organizer = await _app.ClientWithRoleAsync(Roles.Organizer);
        var response = await organizer.PostAsJsonAsync("/api/alerts", new { type = "urgent", bodies = new { en = new string('a', 1601) } });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("1600", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Healthz_answers_without_credentials_when_the_database_is_reachable()
    {
        var response = await _app.Http.GetAsync("/healthz");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task An_alert_with_no_subscribers_is_done_at_once_with_zero_recipients()
    {
        var organizer = await _app.ClientWithRoleAsync(Roles.Organizer);
        var id = await AlertNetTestApp.TriggerAlertAsync(organizer, new { type = "know_your_rights", bodies = new { en = "You have rights" } });

        var alert = await AlertNetTestApp.WaitUntilSettledAsync(organizer, id, expectedRecipients: 0);

        Assert.Equal(0, alert.GetProperty("recipients").GetInt32());
    }
}
