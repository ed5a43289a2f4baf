using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using AlertNet.Infrastructure.Auth;
using AlertNet.Tests.Support;

namespace AlertNet.Tests.Alerts;

/// <summary>An alert records how it was verified, by whom and when, and the hotline report it came from; the inbox shows
/// which alert a report became; unverified urgent alerts can be made to wait for a second organizer.</summary>
public sealed class ProvenanceTests : IAsyncLifetime
{
    private AlertNetTestApp _app = null!;

    public async Task InitializeAsync() => _app = await AlertNetTestApp.StartAsync(overrides: new Dictionary<string, string?>
    {
        ["Alerts:UnverifiedUrgentNeedsApproval"] = "true",
    });

    public async Task DisposeAsync() => await _app.DisposeAsync();

    [Fact]
    public async Task A_verified_alert_from_a_report_keeps_its_provenance_and_says_so_in_each_language()
    {
        await _app.TextAsync("+12025557501", "JOIN");
        await _app.TextAsync("+12025557502", "ÚNETE");
        await _app.TextAsync("+12025557503", "REPORT two vans at the laundromat on 5th");
        var coordinator = await _app.ClientWithRoleAsync(Roles.Coordinator);
        var report = (await coordinator.GetFromJsonAsync<JsonElement>("/api/hotline")).GetProperty("reports")[0].GetProperty("id").GetInt64();
        var organizer = await _app.ClientWithRoleAsync(Roles.Organizer);

        var id = await AlertNetTestApp.TriggerAlertAsync(organizer, new
        {
            type = "urgent",
            bodies = new { en = "Agents at the laundromat on 5th", es = "Agentes en la lavandería de la calle 5" },
            verification = "photo_video",
            verifiedBy = "eastside responders",
            reports = new[] { report },
            verificationLine = true,
        });
        var alert = await AlertNetTestApp.WaitUntilSettledAsync(organizer, id, expectedRecipients: 2);

        Assert.Equal("photo_video", alert.GetProperty("verification").GetString());
        Assert.Equal("eastside responders", alert.GetProperty("verifiedBy").GetString());
        Assert.True(alert.GetProperty("verifiedAt").GetDateTimeOffset() > DateTimeOffset.UtcNow.AddMinutes(-5));
        Assert.Equal(report, Assert.Single(alert.GetProperty("reports").EnumerateArray()).GetInt64());
        var bodies = _app.Carrier.AlertMessages().Select(m => m.Body!).ToList();
        Assert.Contains(bodies, b => System.Text.RegularExpressions.Regex.IsMatch(b,
            @"^Agents at the laundromat on 5th\nVerified by the rapid-response team at \d\d:\d\d UTC\.$"));
        Assert.Contains(bodies, b => b.StartsWith("Agentes en la lavandería de la calle 5\nVerificado por el equipo de respuesta rápida a las ",
            StringComparison.Ordinal));
        var inbox = await coordinator.GetFromJsonAsync<JsonElement>("/api/hotline");
        Assert.Equal(id, inbox.GetProperty("reports")[0].GetProperty("alertId").GetInt64());
    }

    [Fact]
    public async Task An_unverified_urgent_alert_waits_for_a_second_organizer_whatever_its_size_when_the_setting_is_on()
    {
        await _app.TextAsync("+12025557511", "JOIN");
        var organizer = await _app.ClientWithRoleAsync(Roles.Organizer);

        using var unverified = await organizer.PostAsJsonAsync("/api/alerts", new { type = "urgent", bodies = new { en = "Raid rumour" } });
        using var unrecorded = await organizer.PostAsJsonAsync("/api/alerts",
            new { type = "urgent", bodies = new { en = "Raid rumour" }, verification = "unverified" });
        using var seen = await organizer.PostAsJsonAsync("/api/alerts",
            new { type = "urgent", bodies = new { en = "Agents seen" }, verification = "in_person" });
        using var rights = await organizer.PostAsJsonAsync("/api/alerts", new { type = "know_your_rights", bodies = new { en = "Rights" } });
        using var wrong = await organizer.PostAsJsonAsync("/api/alerts",
            new { type = "urgent", bodies = new { en = "x" }, verification = "rumour" });

        Assert.Equal("awaiting_approval", await StateAsync(unverified));
        Assert.Equal("awaiting_approval", await StateAsync(unrecorded));
        Assert.Equal("queued", await StateAsync(seen));
        Assert.Equal("queued", await StateAsync(rights));
        Assert.Equal(HttpStatusCode.BadRequest, wrong.StatusCode);
        Assert.Contains("verification must be one of", await wrong.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    private static async Task<string?> StateAsync(HttpResponseMessage response)
    {
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("state").GetString();
    }
}
