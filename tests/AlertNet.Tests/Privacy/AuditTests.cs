using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using AlertNet.Alerts;
using AlertNet.Infrastructure.Auth;
using AlertNet.Subscribers;
using AlertNet.Tests.Support;
using Dapper;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Options;

namespace AlertNet.Tests.Privacy;

/// <summary>Every organizer and admin action leaves who, what and when in the audit log, never a subscriber's
/// number or text; admins read it through GET /api/audit.</summary>
public sealed class AuditTests : IAsyncLifetime
{
    private const string Subscriber = "+12025553501";

    /// <summary>POST routes under /api that change nothing, and why.</summary>
    private static readonly Dictionary<string, string> ReadOnlyRoutes = new()
    {
        ["POST /api/alerts/preview"] = "counts recipients and segments; sends and stores nothing",
        // Drill mode's phone simulator: staff stand in for a subscriber, whose texts (through the inbound webhook) are
        // not organizer actions and never audited; the message list reads the drill carrier only.
        ["POST /api/drill/phone/text"] = "drill mode: a subscriber's text, posted to the signed inbound webhook",
        ["POST /api/drill/phone/messages"] = "drill mode: reads what the drill carrier received; changes nothing",
    };

    private AlertNetTestApp _app = null!;

    public async Task InitializeAsync() => _app = await AlertNetTestApp.StartAsync();

    public async Task DisposeAsync() => await _app.DisposeAsync();

    /// <summary>An alert held for a second organizer's approval: with the threshold at 1 person, the two subscribers
    /// make it a large send.</summary>
    private async Task<long> HeldAlertAsync(HttpClient organizer)
    {
        var options = _app.Services.GetRequiredService<IOptions<AlertsOptions>>().Value;
        var threshold = options.ApprovalThreshold;
        options.ApprovalThreshold = 1;
        try
        {
            return await AlertNetTestApp.TriggerAlertAsync(organizer, new { type = "urgent", bodies = new { en = "Held for approval" } });
        }
        finally
        {
            options.ApprovalThreshold = threshold;
        }
    }

    /// <summary>A campaign change held for a second organizer, as <see cref="HeldAlertAsync"/> holds an alert.</summary>
    private async Task<HttpResponseMessage> WithThresholdOneAsync(Func<Task<HttpResponseMessage>> call)
    {
        var options = _app.Services.GetRequiredService<IOptions<AlertsOptions>>().Value;
        var threshold = options.ApprovalThreshold;
        options.ApprovalThreshold = 1;
        try
        {
            return await call();
        }
        finally
        {
            options.ApprovalThreshold = threshold;
        }
    }

    [Fact]
    public async Task Every_mutating_api_route_writes_an_audit_row_naming_who_did_it()
    {
        await _app.TextAsync(Subscriber, "JOIN");
        await _app.TextAsync("+12025553502", "JOIN");
        await _app.TextAsync(Subscriber, "REPORT men in vests at 202-555-3501 corner");
        await _app.TextAsync("+12025553502", "REPORT men in vests at the corner");
        var organizer = await _app.ClientWithRoleAsync(Roles.Organizer);
        var coordinator = await _app.ClientWithRoleAsync(Roles.Coordinator);
        var admin = await _app.ClientWithRoleAsync(Roles.Admin);
        await using var db = await _app.Db.OpenConnectionAsync();
        long scheduledAlert = 0;
        long campaign = 0;

        // Each mutating route: who calls it, how, and the audit action it must leave. Order matters where a
        // call needs what an earlier one made.
        var calls = new List<(string Route, string Actor, string Action, Func<Task<HttpResponseMessage>> Call)>
        {
            ("POST /api/groups", "test-organizer", "group.create",
                () => organizer.PostAsJsonAsync("/api/groups", new { name = "eastside", keywords = new[] { "ESTE" } })),
            ("PUT /api/groups/{name}/quiet-hours", "test-organizer", "group.quiet_hours",
                () => organizer.PutAsJsonAsync("/api/groups/eastside/quiet-hours", new { start = "22:00", end = "07:00", timeZone = "America/New_York" })),
            ("POST /api/alerts", "test-organizer", "alert.trigger", async () =>
            {
                var response = await organizer.PostAsJsonAsync("/api/alerts",
                    new { type = "know_your_rights", bodies = new { en = "Rights night" }, sendAt = DateTimeOffset.UtcNow.AddDays(1) });
                scheduledAlert = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetInt64();
                return response;
            }),
            ("POST /api/alerts/{id:long}/cancel", "test-organizer", "alert.cancel",
                () => organizer.PostAsync($"/api/alerts/{scheduledAlert}/cancel", null)),
            ("POST /api/campaigns", "test-organizer", "campaign.schedule", async () =>
            {
                var response = await organizer.PostAsJsonAsync("/api/campaigns",
                    new { name = "weekly", cron = "0 18 * * 1", timeZone = "UTC", bodies = new { en = "Know your rights" } });
                campaign = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetInt64();
                return response;
            }),
            ("PUT /api/campaigns/{id:long}", "test-organizer", "campaign.update",
                () => WithThresholdOneAsync(() => organizer.PutAsJsonAsync($"/api/campaigns/{campaign}",
                    new { name = "weekly", cron = "0 18 * * 1", timeZone = "UTC", bodies = new { en = "Know your rights, changed" } }))),
            ("POST /api/campaigns/{id:long}/approve", "test-admin", "campaign.approve",
                () => admin.PostAsync($"/api/campaigns/{campaign}/approve", null)),
            ("POST /api/campaigns/{id:long}/reject", "test-admin", "campaign.reject", async () =>
            {
                await WithThresholdOneAsync(() => organizer.PutAsJsonAsync($"/api/campaigns/{campaign}",
                    new { name = "weekly", cron = "0 18 * * 2", timeZone = "UTC", bodies = new { en = "Know your rights" } }));
                return await admin.PostAsJsonAsync($"/api/campaigns/{campaign}/reject", new { reason = "not checked" });
            }),
            ("DELETE /api/campaigns/{id:long}", "test-organizer", "campaign.delete",
                () => organizer.DeleteAsync($"/api/campaigns/{campaign}")),
            ("POST /api/hotline/{id:long}/review", "test-coordinator", "hotline.review", async () =>
                await coordinator.PostAsJsonAsync(
                    $"/api/hotline/{await db.ExecuteScalarAsync<long>("SELECT min(id) FROM hotline_reports")}/review", new { status = "verified" })),
            ("POST /api/hotline/{id:long}/same-sighting", "test-coordinator", "hotline.group", async () =>
                await coordinator.PostAsJsonAsync($"/api/hotline/{await db.ExecuteScalarAsync<long>("SELECT max(id) FROM hotline_reports")}/same-sighting",
                    new { sameAs = await db.ExecuteScalarAsync<long>("SELECT min(id) FROM hotline_reports") })),
            ("POST /api/alerts/{id:long}/follow-ups", "test-organizer", "alert.follow_up", async () =>
            {
                var sent = await AlertNetTestApp.TriggerAlertAsync(organizer, new { type = "urgent", bodies = new { en = "Agents at the depot" } });
                await AlertNetTestApp.WaitUntilSettledAsync(organizer, sent, expectedRecipients: 2);
                return await organizer.PostAsJsonAsync($"/api/alerts/{sent}/follow-ups", new { type = "correction", bodies = new { en = "Correction" } });
            }),
            ("POST /api/alerts/test-send", "test-organizer", "alert.test-send", async () =>
            {
                await _app.Services.GetRequiredService<OrganizerPhones>().RegisterAsync("+12025553599", "test-organizer", "en", CancellationToken.None);
                return await organizer.PostAsJsonAsync("/api/alerts/test-send", new { bodies = new { en = "Test" } });
            }),
            ("POST /api/alerts/{id:long}/approve", "test-admin", "alert.approve",
                async () => await admin.PostAsync($"/api/alerts/{await HeldAlertAsync(organizer)}/approve", null)),
            ("POST /api/alerts/{id:long}/reject", "test-admin", "alert.reject",
                async () => await admin.PostAsJsonAsync($"/api/alerts/{await HeldAlertAsync(organizer)}/reject", new { reason = "not verified" })),
            // Last: it wipes the subscribers the calls above needed.
            ("POST /api/admin/purge-subscribers", "test-admin", "subscribers.purge",
                () => admin.PostAsJsonAsync("/api/admin/purge-subscribers", new { confirm = "PURGE ALL SUBSCRIBERS" })),
        };

        var mutating = _app.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .Where(e => e.RoutePattern.RawText!.StartsWith("/api/", StringComparison.Ordinal))
            .SelectMany(e => e.Metadata.GetMetadata<Microsoft.AspNetCore.Routing.HttpMethodMetadata>()?.HttpMethods ?? [],
                (e, method) => $"{method} {e.RoutePattern.RawText}")
            .Where(route => !route.StartsWith("GET ", StringComparison.Ordinal))
            .ToHashSet();
        // A new route must be added above (or, if it changes nothing, to ReadOnlyRoutes with the reason).
        Assert.Equal(mutating.Order(), calls.Select(c => c.Route).Concat(ReadOnlyRoutes.Keys).Order());

        foreach (var (route, actor, action, call) in calls)
        {
            var before = await db.ExecuteScalarAsync<long>("SELECT coalesce(max(id), 0) FROM audit_log");
            var response = await call();
            Assert.True(response.IsSuccessStatusCode, $"{route}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
            var rows = (await db.QueryAsync<(string Actor, string Action)>(
                "SELECT actor, action FROM audit_log WHERE id > @before", new { before })).ToList();
            Assert.True(rows.Contains((actor, action)), $"{route} left no {action} row by {actor}; it left: {string.Join(", ", rows)}");
        }

        var everything = string.Join('\n', await db.QueryAsync<string>("SELECT concat_ws(' ', actor, action, subject, details::text) FROM audit_log"));
        foreach (var leak in new[] { "2025553501", "202-555-3501", "men in vests" })
        {
            Assert.DoesNotContain(leak, everything, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Admins_page_through_the_audit_log_newest_first_and_filter_it()
    {
        await using (var db = await _app.Db.OpenConnectionAsync())
        {
            for (var i = 0; i < 5; i++)
            {
                await db.ExecuteAsync("INSERT INTO audit_log (actor, action, subject) VALUES (@actor, @action, @subject)",
                    new { actor = i % 2 == 0 ? "maria" : "jose", action = i < 3 ? "alert.trigger" : "group.create", subject = $"n:{i}" });
            }
        }

        var admin = await _app.ClientWithRoleAsync(Roles.Admin);
        var first = await admin.GetFromJsonAsync<JsonElement>("/api/audit?limit=2&actor=maria");
        var subjects = first.GetProperty("entries").EnumerateArray().Select(e => e.GetProperty("subject").GetString()).ToList();
        Assert.Equal(["n:4", "n:2"], subjects);
        var next = first.GetProperty("nextBefore").GetInt64();
        var second = await admin.GetFromJsonAsync<JsonElement>($"/api/audit?limit=2&actor=maria&before={next}");
        Assert.Equal(["n:0"], second.GetProperty("entries").EnumerateArray().Select(e => e.GetProperty("subject").GetString()));
        Assert.Equal(JsonValueKind.Null, second.GetProperty("nextBefore").ValueKind);

        var byAction = await admin.GetFromJsonAsync<JsonElement>("/api/audit?action=group.create");
        Assert.Equal(["n:4", "n:3"], byAction.GetProperty("entries").EnumerateArray().Select(e => e.GetProperty("subject").GetString()));
        Assert.All(byAction.GetProperty("entries").EnumerateArray(), e => Assert.True(e.TryGetProperty("at", out _)));

        Assert.Equal(HttpStatusCode.BadRequest, (await admin.GetAsync("/api/audit?limit=0")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await (await _app.ClientWithRoleAsync(Roles.Organizer)).GetAsync("/api/audit")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await _app.Http.GetAsync("/api/audit")).StatusCode);
    }
}
