using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using AlertNet.Infrastructure.Auth;
using AlertNet.Subscribers;
using AlertNet.Tests.Support;
using Dapper;

namespace AlertNet.Tests.Alerts;

/// <summary>A send to more people than Alerts:ApprovalThreshold waits for a second organizer.</summary>
public sealed class ApprovalTests : IAsyncLifetime
{
    private static readonly string[] Subscribers = AlertNetTestApp.Numbers(3, first: 7100);

    private AlertNetTestApp _app = null!;
    private HttpClient _maria = null!;
    private HttpClient _jose = null!;

    public async Task InitializeAsync()
    {
        _app = await AlertNetTestApp.StartAsync(overrides: new Dictionary<string, string?> { ["Alerts:ApprovalThreshold"] = "2" });
        _maria = await _app.ClientAsAsync("maria", Roles.Organizer);
        _jose = await _app.ClientAsAsync("jose", Roles.Organizer);
        await _app.JoinAllAsync(Subscribers);
    }

    public async Task DisposeAsync()
    {
        _maria.Dispose();
        _jose.Dispose();
        await _app.DisposeAsync();
    }

    [Fact]
    public async Task A_send_above_the_threshold_waits_until_another_organizer_approves_then_reaches_everyone_once()
    {
        var created = await TriggerAsync(_maria, new { type = "urgent", bodies = new { en = "Agents at 5th and Main" } });

        Assert.Equal("awaiting_approval", created.GetProperty("state").GetString());
        Assert.Equal(3, created.GetProperty("recipients").GetInt32());
        Assert.Contains("another organizer approves", created.GetProperty("message").GetString(), StringComparison.Ordinal);
        var id = created.GetProperty("id").GetInt64();
        var waiting = await AlertNetTestApp.GetAlertAsync(_jose, id);
        Assert.Equal("awaiting_approval", waiting.GetProperty("state").GetString());
        Assert.Equal(3, waiting.GetProperty("estimatedRecipients").GetInt32());
        var approvals = await _jose.GetFromJsonAsync<JsonElement>("/api/approvals");
        var listed = Assert.Single(approvals.EnumerateArray());
        Assert.Equal(id, listed.GetProperty("id").GetInt64());
        Assert.Equal("maria", listed.GetProperty("createdBy").GetString());
        Assert.True(listed.GetProperty("canApprove").GetBoolean());
        Assert.False((await _maria.GetFromJsonAsync<JsonElement>("/api/approvals"))[0].GetProperty("canApprove").GetBoolean());
        Assert.Equal(0, await CountAsync("SELECT count(*) FROM deliveries"));

        var approved = await _jose.PostAsync($"/api/alerts/{id}/approve", null);

        Assert.Equal(HttpStatusCode.OK, approved.StatusCode);
        var alert = await AlertNetTestApp.WaitUntilSettledAsync(_jose, id, expectedRecipients: 3);
        Assert.Equal(3, alert.GetProperty("counts").GetProperty("delivered").GetInt32());
        Assert.Equal("jose", alert.GetProperty("approvedBy").GetString());
        Assert.All(Subscribers, number => Assert.Equal(1, _app.Carrier.AlertCountTo(number)));
        Assert.Equal(HttpStatusCode.Conflict, (await _jose.PostAsync($"/api/alerts/{id}/approve", null)).StatusCode);
        Assert.Equal(["maria alert.trigger", "jose alert.approve"], await AuditAsync(id));
    }

    [Fact]
    public async Task A_send_at_the_threshold_goes_out_at_once()
    {
        var created = await TriggerAsync(_maria, new { type = "urgent", bodies = new { en = "Agents at the school" }, groups = new[] { "small" } },
            group: ("small", Subscribers[..2]));

        Assert.Equal("queued", created.GetProperty("state").GetString());
        await AlertNetTestApp.WaitUntilSettledAsync(_maria, created.GetProperty("id").GetInt64(), expectedRecipients: 2);
    }

    [Theory]
    [InlineData("maria")]
    [InlineData("Maria")]
    [InlineData("sms:maria")]
    public async Task Nobody_approves_their_own_alert_whichever_way_they_signed_in(string sameOrganizer)
    {
        var id = (await TriggerAsync(_maria, new { type = "urgent", bodies = new { en = "Agents at 5th and Main" } })).GetProperty("id").GetInt64();
        using var again = await _app.ClientAsAsync(sameOrganizer, Roles.Organizer);

        var response = await again.PostAsync($"/api/alerts/{id}/approve", null);

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Contains("another organizer must approve it", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal("awaiting_approval", (await AlertNetTestApp.GetAlertAsync(_maria, id)).GetProperty("state").GetString());
        Assert.Contains($"{sameOrganizer} alert.approve-refused", await AuditAsync(id));
    }

    [Fact]
    public async Task Coordinators_see_the_approvals_list_but_cannot_approve_reject_or_test_send()
    {
        var id = (await TriggerAsync(_maria, new { type = "urgent", bodies = new { en = "x" } })).GetProperty("id").GetInt64();
        using var coordinator = await _app.ClientAsAsync("carla", Roles.Coordinator);

        var listed = await coordinator.GetFromJsonAsync<JsonElement>("/api/approvals");

        Assert.False(listed[0].GetProperty("canApprove").GetBoolean());
        Assert.Equal(HttpStatusCode.Forbidden, (await coordinator.PostAsync($"/api/alerts/{id}/approve", null)).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await coordinator.PostAsJsonAsync($"/api/alerts/{id}/reject", new { })).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await coordinator.PostAsJsonAsync("/api/alerts/test-send", new { bodies = new { en = "x" } })).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await _app.Http.GetAsync("/api/approvals")).StatusCode);
    }

    [Fact]
    public async Task A_rejected_alert_is_never_sent_and_says_who_rejected_it_and_why()
    {
        var id = (await TriggerAsync(_maria, new { type = "urgent", bodies = new { en = "Unverified report" } })).GetProperty("id").GetInt64();

        var rejected = await _jose.PostAsJsonAsync($"/api/alerts/{id}/reject", new { reason = "Not verified by the hotline yet" });

        Assert.Equal(HttpStatusCode.OK, rejected.StatusCode);
        var alert = await AlertNetTestApp.GetAlertAsync(_maria, id);
        Assert.Equal("rejected", alert.GetProperty("state").GetString());
        Assert.Equal("jose", alert.GetProperty("rejectedBy").GetString());
        Assert.Equal("Not verified by the hotline yet", alert.GetProperty("rejectReason").GetString());
        Assert.Equal(HttpStatusCode.Conflict, (await _jose.PostAsync($"/api/alerts/{id}/approve", null)).StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, (await _maria.PostAsync($"/api/alerts/{id}/cancel", null)).StatusCode);
        Assert.Empty((await _jose.GetFromJsonAsync<JsonElement>("/api/approvals")).EnumerateArray());
        Assert.Equal(0, await CountAsync("SELECT count(*) FROM deliveries"));
        Assert.Equal(["maria alert.trigger", "jose alert.reject"], await AuditAsync(id));
        Assert.Equal(HttpStatusCode.BadRequest,
            (await _jose.PostAsJsonAsync($"/api/alerts/{id}/reject", new { reason = new string('x', 501) })).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await _jose.PostAsync("/api/alerts/999999/approve", null)).StatusCode);
    }

    [Fact]
    public async Task Its_creator_can_withdraw_an_alert_awaiting_approval()
    {
        var id = (await TriggerAsync(_maria, new { type = "urgent", bodies = new { en = "Wrong street" } })).GetProperty("id").GetInt64();

        Assert.Equal(HttpStatusCode.OK, (await _maria.PostAsync($"/api/alerts/{id}/cancel", null)).StatusCode);

        Assert.Equal("cancelled", (await AlertNetTestApp.GetAlertAsync(_maria, id)).GetProperty("state").GetString());
        Assert.Equal(HttpStatusCode.Conflict, (await _jose.PostAsync($"/api/alerts/{id}/approve", null)).StatusCode);
        Assert.Equal(0, await CountAsync("SELECT count(*) FROM deliveries"));
    }

    [Fact]
    public async Task A_scheduled_alert_approved_early_still_waits_for_its_send_time()
    {
        var sendAt = DateTimeOffset.UtcNow.AddSeconds(6);
        var id = (await TriggerAsync(_maria, new { type = "know_your_rights", bodies = new { en = "Know your rights" }, sendAt }))
            .GetProperty("id").GetInt64();

        Assert.Equal(HttpStatusCode.OK, (await _jose.PostAsync($"/api/alerts/{id}/approve", null)).StatusCode);

        Assert.Equal("queued", (await AlertNetTestApp.GetAlertAsync(_maria, id)).GetProperty("state").GetString());
        await AlertNetTestApp.WaitUntilSettledAsync(_maria, id, expectedRecipients: 3);
        Assert.All(_app.Carrier.AlertMessages(), m => Assert.True(m.DateCreated >= sendAt, $"sent at {m.DateCreated:O}, before {sendAt:O}"));
    }

    [Fact]
    public async Task An_alert_that_expired_while_waiting_cannot_be_approved()
    {
        var id = (await TriggerAsync(_maria, new { type = "urgent", bodies = new { en = "Agents at 5th and Main" }, expiresInMinutes = 5 }))
            .GetProperty("id").GetInt64();
        await using (var connection = await _app.Db.OpenConnectionAsync())
        {
            await connection.ExecuteAsync("UPDATE alerts SET expires_at = now() - interval '1 second' WHERE id = @id", new { id });
        }

        var response = await _jose.PostAsync($"/api/alerts/{id}/approve", null);

        Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
        Assert.Contains("expired while it waited", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_sms_alert_above_the_threshold_is_held_and_its_sender_is_told_so()
    {
        var phone = AlertNetTestApp.Numbers(1, first: 7190)[0];
        await _app.Services.GetRequiredService<OrganizerPhones>().RegisterAsync(phone, "lucia", "en", CancellationToken.None);
        var preview = await _app.TextAsync(phone, "ALERT DEFAULT Agents at 5th and Main");
        var code = System.Text.RegularExpressions.Regex.Match(preview!, @"YES (\d{8})").Groups[1].Value;

        var reply = await _app.TextAsync(phone, $"YES {code}");

        var id = await ScalarAsync<long>("SELECT id FROM alerts");
        Assert.Equal(_app.Services.GetRequiredService<Replies>().Get("smsAlertAwaitingApproval", "en",
            new Dictionary<string, string> { ["alert"] = id.ToString(CultureInfo.InvariantCulture), ["recipients"] = "3" }), reply);
        Assert.Equal("awaiting_approval", (await AlertNetTestApp.GetAlertAsync(_jose, id)).GetProperty("state").GetString());
        using var lucia = await _app.ClientAsAsync("lucia", Roles.Organizer);
        Assert.Equal(HttpStatusCode.Forbidden, (await lucia.PostAsync($"/api/alerts/{id}/approve", null)).StatusCode);
    }

    private async Task<JsonElement> TriggerAsync(HttpClient organizer, object request, (string Name, string[] Members)? group = null)
    {
        if (group is { } g)
        {
            Assert.Equal(HttpStatusCode.Created, (await organizer.PostAsJsonAsync("/api/groups", new { name = g.Name })).StatusCode);
            foreach (var number in g.Members)
            {
                await _app.TextAsync(number, "JOIN " + g.Name);
            }
        }

        var response = await organizer.PostAsJsonAsync("/api/alerts", request);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }

    private async Task<List<string>> AuditAsync(long id)
    {
        await using var connection = await _app.Db.OpenConnectionAsync();
        return (await connection.QueryAsync<string>(
            "SELECT actor || ' ' || action FROM audit_log WHERE subject = @subject ORDER BY id", new { subject = $"alert:{id}" })).ToList();
    }

    private Task<int> CountAsync(string sql) => ScalarAsync<int>(sql);

    private async Task<T> ScalarAsync<T>(string sql)
        where T : struct
    {
        await using var connection = await _app.Db.OpenConnectionAsync();
        return await connection.ExecuteScalarAsync<T>(sql);
    }
}
