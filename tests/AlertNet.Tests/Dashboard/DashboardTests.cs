using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using AlertNet.Dashboard;
using AlertNet.Infrastructure.Auth;
using AlertNet.Infrastructure.Twilio.Drill;
using AlertNet.Tests.Support;

namespace AlertNet.Tests.Dashboard;

/// <summary>The live delivery dashboard: plain-language counts, failures by what to do next, timings, and its
/// server-sent events.</summary>
public sealed class DashboardTests : IAsyncLifetime
{
    private AlertNetTestApp _app = null!;
    private HttpClient _organizer = null!;
    private HttpClient _coordinator = null!;

    public async Task InitializeAsync()
    {
        // Slow enough (20 messages at 10 segments a second) that a watcher sees the alert move.
        _app = await AlertNetTestApp.StartAsync(overrides: new Dictionary<string, string?> { ["Delivery:SegmentsPerSecond"] = "10" });
        _organizer = await _app.ClientAsAsync("maria", Roles.Organizer);
        _coordinator = await _app.ClientAsAsync("carla", Roles.Coordinator);
    }

    public async Task DisposeAsync()
    {
        _organizer.Dispose();
        _coordinator.Dispose();
        await _app.DisposeAsync();
    }

    [Fact]
    public async Task The_dashboard_counts_in_plain_language_and_groups_failures_by_what_to_do_next()
    {
        await _app.JoinAllAsync(AlertNetTestApp.Numbers(3, first: 7300));
        await _app.JoinAllAsync([DrillMagicNumbers.InvalidNumber, DrillMagicNumbers.LandlineOrUnreachableCarrier,
            DrillMagicNumbers.Unreachable, DrillMagicNumbers.OptedOutAtCarrier]);
        var id = await AlertNetTestApp.TriggerAlertAsync(_organizer, new { type = "urgent", bodies = new { en = "Agents at 5th and Main" } });
        await AlertNetTestApp.WaitUntilSettledAsync(_organizer, id, expectedRecipients: 7);

        var dashboard = await _coordinator.GetFromJsonAsync<JsonElement>($"/api/alerts/{id}/dashboard");

        Assert.Equal(7, dashboard.GetProperty("recipients").GetInt32());
        Assert.Equal(
            ["Queued 0", "Delivering 0", "Delivered 3", "Sent, no receipt 0", "Not delivered 1", "Failed 2", "Opted out 1", "Expired 0", "Cancelled 0"],
            dashboard.GetProperty("counts").EnumerateArray().Select(c => $"{c.GetProperty("label").GetString()} {c.GetProperty("count").GetInt32()}"));
        Assert.Equal(100, dashboard.GetProperty("progressPercent").GetDouble());
        Assert.Equal(50, dashboard.GetProperty("failurePercent").GetDouble());
        Assert.True(dashboard.GetProperty("failureWarning").GetBoolean());
        Assert.Equal(
            ["remove_number 2 (21211, 30006)", "temporary 1 (30003)", "opted_out 1 (21610)"],
            dashboard.GetProperty("reasons").EnumerateArray().Select(r =>
                $"{r.GetProperty("key").GetString()} {r.GetProperty("count").GetInt32()} " +
                $"({string.Join(", ", r.GetProperty("codes").EnumerateArray().Select(c => c.GetProperty("code").GetInt32()).Order())})"));
        Assert.True(dashboard.GetProperty("p50Seconds").GetDouble() <= dashboard.GetProperty("p95Seconds").GetDouble());
        Assert.Equal(3, dashboard.GetProperty("throughput").GetProperty("delivered").EnumerateArray().Sum(p => p.GetInt32()));
        Assert.True(dashboard.GetProperty("settled").GetBoolean());
    }

    [Fact]
    public async Task A_clean_send_shows_no_failure_warning()
    {
        await _app.JoinAllAsync(AlertNetTestApp.Numbers(2, first: 7310));
        var id = await AlertNetTestApp.TriggerAlertAsync(_organizer, new { type = "urgent", bodies = new { en = "All clear" } });
        await AlertNetTestApp.WaitUntilSettledAsync(_organizer, id, expectedRecipients: 2);

        var dashboard = await _coordinator.GetFromJsonAsync<JsonElement>($"/api/alerts/{id}/dashboard");

        Assert.Equal(0, dashboard.GetProperty("failurePercent").GetDouble());
        Assert.False(dashboard.GetProperty("failureWarning").GetBoolean());
        Assert.Empty(dashboard.GetProperty("reasons").EnumerateArray());
    }

    [Fact]
    public async Task The_live_feed_pushes_the_dashboard_as_it_changes_and_ends_when_the_alert_is_settled()
    {
        await _app.JoinAllAsync(AlertNetTestApp.Numbers(20, first: 7320));
        var id = await AlertNetTestApp.TriggerAlertAsync(_organizer, new { type = "urgent", bodies = new { en = "Agents at 5th and Main" } });

        using var response = await _coordinator.GetAsync($"/api/alerts/{id}/events", HttpCompletionOption.ResponseHeadersRead);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        var events = await ReadEventsAsync(response, TimeSpan.FromSeconds(60));
        Assert.Equal("settled", events[^1].Event);
        var dashboards = events.Where(e => e.Event == "dashboard").Select(e => JsonDocument.Parse(e.Data).RootElement).ToList();
        Assert.True(dashboards.Count >= 2, $"expected the feed to show progress, got {dashboards.Count} dashboard(s)");
        var progress = dashboards.Select(d => d.GetProperty("progressPercent").GetDouble()).ToList();
        Assert.Equal(progress.Order(), progress);
        Assert.Equal(100, progress[^1]);
        Assert.True(dashboards[^1].GetProperty("settled").GetBoolean());
        Assert.Equal(20, dashboards[^1].GetProperty("counts")[2].GetProperty("count").GetInt32());
    }

    [Fact]
    public async Task Watchers_of_one_alert_share_one_poller_which_stops_when_they_leave()
    {
        await _app.JoinAllAsync(AlertNetTestApp.Numbers(2, first: 7350));
        // Scheduled an hour ahead: it stays unsettled while it is watched.
        var id = await AlertNetTestApp.TriggerAlertAsync(_organizer,
            new { type = "urgent", bodies = new { en = "Later" }, sendAt = DateTimeOffset.UtcNow.AddHours(1) });
        var poller = _app.Services.GetRequiredService<DashboardPoller>();

        using (var first = await _coordinator.GetAsync($"/api/alerts/{id}/events", HttpCompletionOption.ResponseHeadersRead))
        using (var second = await _organizer.GetAsync($"/api/alerts/{id}/events", HttpCompletionOption.ResponseHeadersRead))
        {
            var one = await FirstDashboardAsync(first);
            var other = await FirstDashboardAsync(second);
            Assert.Equal("queued", one.GetProperty("state").GetString());
            Assert.Equal(one.GetRawText(), other.GetRawText());
            Assert.Equal(1, poller.ActivePollers);
        }

        await Eventually.TrueAsync(() => poller.ActivePollers == 0, TimeSpan.FromSeconds(10), "the poller to stop when its watchers left");
    }

    [Fact]
    public async Task Only_staff_watch_and_an_unknown_alert_is_404()
    {
        Assert.Equal(HttpStatusCode.Unauthorized, (await _app.Http.GetAsync("/api/alerts/1/dashboard")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await _app.Http.GetAsync("/api/alerts/1/events")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await _app.Http.GetAsync("/api/overview")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await _coordinator.GetAsync("/api/alerts/999999/dashboard")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await _coordinator.GetAsync("/api/alerts/999999/events")).StatusCode);
    }

    [Fact]
    public async Task The_overview_shows_recent_alerts_and_subscribers_per_group_and_language_as_counts()
    {
        await _app.JoinAllAsync(AlertNetTestApp.Numbers(2, first: 7360));
        await _app.TextAsync("+12025557370", "ÚNETE");
        var id = await AlertNetTestApp.TriggerAlertAsync(_organizer, new { type = "urgent", bodies = new { en = "Agents", es = "Agentes" } });
        await AlertNetTestApp.WaitUntilSettledAsync(_organizer, id, expectedRecipients: 3);

        var overview = await _coordinator.GetFromJsonAsync<JsonElement>("/api/overview");

        var alert = Assert.Single(overview.GetProperty("alerts").EnumerateArray());
        Assert.Equal(id, alert.GetProperty("id").GetInt64());
        Assert.Equal("done", alert.GetProperty("state").GetString());
        Assert.Equal(3, alert.GetProperty("counts").GetProperty("delivered").GetInt32());
        var subscribers = overview.GetProperty("subscribers");
        Assert.Equal(3, subscribers.GetProperty("active").GetInt32());
        Assert.Equal(2, subscribers.GetProperty("byLanguage").GetProperty("en").GetInt32());
        Assert.Equal(1, subscribers.GetProperty("byLanguage").GetProperty("es").GetInt32());
        var group = Assert.Single(subscribers.GetProperty("groups").EnumerateArray());
        Assert.Equal("default", group.GetProperty("name").GetString());
        Assert.Equal(3, group.GetProperty("active").GetInt32());
        Assert.Equal(0, overview.GetProperty("awaitingApproval").GetInt32());
    }

    private static async Task<JsonElement> FirstDashboardAsync(HttpResponseMessage response)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var reader = new StreamReader(await response.Content.ReadAsStreamAsync(timeout.Token));
        var (name, data) = await ReadEventAsync(reader, timeout.Token);
        Assert.Equal("dashboard", name);
        return JsonDocument.Parse(data!).RootElement;
    }

    private static async Task<List<(string Event, string Data)>> ReadEventsAsync(HttpResponseMessage response, TimeSpan timeout)
    {
        using var cancel = new CancellationTokenSource(timeout);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(cancel.Token));
        var events = new List<(string, string)>();
        while (await ReadEventAsync(reader, cancel.Token) is (string name, string data))
        {
            events.Add((name, data));
        }

        return events;
    }

    /// <summary>One server-sent event (comment lines skipped), or nulls at the end of the stream.</summary>
    private static async Task<(string? Event, string? Data)> ReadEventAsync(StreamReader reader, CancellationToken cancellationToken)
    {
        string? name = null;
        string? data = null;
        while (await reader.ReadLineAsync(cancellationToken) is { } line)
        {
            if (line.Length == 0 && name is not null)
            {
                return (name, data);
            }

            if (line.StartsWith("event: ", StringComparison.Ordinal))
            {
                name = line["event: ".Length..];
            }
            else if (line.StartsWith("data: ", StringComparison.Ordinal))
            {
                data = line["data: ".Length..];
            }
        }

        return (null, null);
    }
}
