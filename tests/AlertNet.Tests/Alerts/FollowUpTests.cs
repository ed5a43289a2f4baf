using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using AlertNet.Infrastructure.Auth;
using AlertNet.Tests.Support;
using Dapper;

namespace AlertNet.Tests.Alerts;

/// <summary>Corrections, all-clears and retractions (POST /api/alerts/{id}/follow-ups) go to exactly the people the
/// original was sent to: not to whoever joined since, not to whoever opted out since, and still to whoever left its
/// groups since; each in the language they chose last.</summary>
public sealed class FollowUpTests : IAsyncLifetime
{
    private AlertNetTestApp _app = null!;
    private HttpClient _organizer = null!;

    public async Task InitializeAsync()
    {
        _app = await AlertNetTestApp.StartAsync();
        _organizer = await _app.ClientWithRoleAsync(Roles.Organizer);
    }

    public async Task DisposeAsync() => await _app.DisposeAsync();

    [Fact]
    public async Task A_correction_reaches_exactly_the_originals_recipients_in_their_language()
    {
        var (stays, optsOut, switchesToSpanish, leavesGroup, joinsLater) =
            ("+12025557001", "+12025557002", "+12025557003", "+12025557004", "+12025557005");
        await _app.JoinAllAsync([stays, optsOut, switchesToSpanish, leavesGroup]);
        var original = await AlertNetTestApp.TriggerAlertAsync(_organizer, new { type = "urgent", bodies = new { en = "Agents at the depot" } });
        await AlertNetTestApp.WaitUntilSettledAsync(_organizer, original, expectedRecipients: 4);

        // Between the alert and its correction: a join, an opt-out, a change of language, a change of groups.
        await _app.TextAsync(joinsLater, "JOIN");
        await _app.TextAsync(optsOut, "STOP");
        await _app.TextAsync(switchesToSpanish, "ESPAÑOL");
        await using (var db = await _app.Db.OpenConnectionAsync())
        {
            // Taken out of the group the alert went to (as an organizer managing groups would).
            Assert.Equal(1, await db.ExecuteAsync(
                "UPDATE memberships SET status = 'left' WHERE subscriber_id = (SELECT id FROM subscribers WHERE phone_index = @index)",
                new { index = _app.Protector.BlindIndex(leavesGroup) }));
        }

        var correction = await AlertNetTestApp.FollowUpAsync(_organizer, original, "correction",
            new { en = "Correction: agents at the bakery, not the depot", es = "Corrección: agentes en la panadería, no en el depósito" });
        var followUp = await AlertNetTestApp.WaitUntilSettledAsync(_organizer, correction, expectedRecipients: 3);

        Assert.Equal("correction", followUp.GetProperty("type").GetString());
        Assert.Equal(original, followUp.GetProperty("followUpOf").GetInt64());
        var corrections = _app.Carrier.AlertMessages().Where(m => m.Body!.StartsWith("Correc", StringComparison.Ordinal))
            .ToDictionary(m => m.To, m => m.Body, StringComparer.Ordinal);
        Assert.Equal(new[] { stays, switchesToSpanish, leavesGroup }.Order(), corrections.Keys.Order());
        Assert.StartsWith("Corrección", corrections[switchesToSpanish], StringComparison.Ordinal);
        Assert.StartsWith("Correction", corrections[stays], StringComparison.Ordinal);
        Assert.DoesNotContain(joinsLater, corrections.Keys);
        Assert.DoesNotContain(optsOut, corrections.Keys);

        var originalView = await AlertNetTestApp.GetAlertAsync(_organizer, original);
        var listed = Assert.Single(originalView.GetProperty("followUps").EnumerateArray());
        Assert.Equal(correction, listed.GetProperty("id").GetInt64());
        Assert.Equal("correction", listed.GetProperty("type").GetString());
        Assert.Equal(JsonValueKind.Null, originalView.GetProperty("followUpOf").ValueKind);
    }

    [Fact]
    public async Task Follow_ups_that_cannot_reach_the_originals_recipients_are_refused_with_the_reason()
    {
        using var standalone = await _organizer.PostAsJsonAsync("/api/alerts", new { type = "correction", bodies = new { en = "Correction" } });
        Assert.Equal(HttpStatusCode.BadRequest, standalone.StatusCode);
        Assert.Contains("/follow-ups", await standalone.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        using var missing = await _organizer.PostAsJsonAsync("/api/alerts/999999/follow-ups", new { type = "correction", bodies = new { en = "Correction" } });
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);

        await _app.TextAsync("+12025557011", "JOIN");
        var original = await AlertNetTestApp.TriggerAlertAsync(_organizer, new { type = "urgent", bodies = new { en = "Agents at the depot" } });
        await AlertNetTestApp.WaitUntilSettledAsync(_organizer, original, expectedRecipients: 1);
        using var badType = await _organizer.PostAsJsonAsync($"/api/alerts/{original}/follow-ups", new { type = "urgent", bodies = new { en = "Again" } });
        Assert.Equal(HttpStatusCode.BadRequest, badType.StatusCode);
        using var noText = await _organizer.PostAsJsonAsync($"/api/alerts/{original}/follow-ups", new { type = "correction", bodies = new { } });
        Assert.Equal(HttpStatusCode.BadRequest, noText.StatusCode);

        var watcher = await _app.ClientWithRoleAsync(Roles.Coordinator);
        using var notAllowed = await watcher.PostAsJsonAsync($"/api/alerts/{original}/follow-ups", new { type = "correction", bodies = new { en = "Correction" } });
        Assert.Equal(HttpStatusCode.Forbidden, notAllowed.StatusCode);

        var scheduled = await AlertNetTestApp.TriggerAlertAsync(_organizer,
            new { type = "urgent", bodies = new { en = "Later" }, sendAt = DateTimeOffset.UtcNow.AddHours(2) });
        using var notSentYet = await _organizer.PostAsJsonAsync($"/api/alerts/{scheduled}/follow-ups", new { type = "retraction", bodies = new { en = "Ignore" } });
        Assert.Equal(HttpStatusCode.Conflict, notSentYet.StatusCode);
        Assert.Contains("cancel", await notSentYet.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        await using (var db = await _app.Db.OpenConnectionAsync())
        {
            // As the retention job leaves an alert once its deliveries are unlinked from people.
            await db.ExecuteAsync("UPDATE deliveries SET subscriber_id = NULL WHERE alert_id = @original", new { original });
            await db.ExecuteAsync("UPDATE alerts SET personal_data_removed_at = now() WHERE id = @original", new { original });
        }

        using var pastRetention = await _organizer.PostAsJsonAsync($"/api/alerts/{original}/follow-ups", new { type = "correction", bodies = new { en = "Correction" } });
        Assert.Equal(HttpStatusCode.Conflict, pastRetention.StatusCode);
        Assert.Contains("past retention", await pastRetention.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_follow_up_after_the_emergency_purge_is_refused_with_the_reason()
    {
        await _app.JoinAllAsync(["+12025557021", "+12025557022"]);
        var original = await AlertNetTestApp.TriggerAlertAsync(_organizer, new { type = "urgent", bodies = new { en = "Agents at the depot" } });
        await AlertNetTestApp.WaitUntilSettledAsync(_organizer, original, expectedRecipients: 2);
        var admin = await _app.ClientWithRoleAsync(Roles.Admin);
        using (var purge = await admin.PostAsJsonAsync("/api/admin/purge-subscribers", new { confirm = "PURGE ALL SUBSCRIBERS" }))
        {
            Assert.True(purge.IsSuccessStatusCode, await purge.Content.ReadAsStringAsync());
        }

        using var refused = await _organizer.PostAsJsonAsync($"/api/alerts/{original}/follow-ups", new { type = "all_clear", bodies = new { en = "All clear" } });

        Assert.Equal(HttpStatusCode.Conflict, refused.StatusCode);
        Assert.Contains("emergency purge", await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }
}
