using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using AlertNet.Alerts;
using AlertNet.Delivery;
using AlertNet.Infrastructure.Auth;
using AlertNet.Tests.Support;
using Dapper;
using Hangfire;

namespace AlertNet.Tests.Delivery;

public sealed class CampaignAndQuietHoursTests : IAsyncLifetime
{
    private const string Subscriber = "+12025550141";
    private AlertNetTestApp _app = null!;
    private HttpClient _organizer = null!;

    public async Task InitializeAsync()
    {
        _app = await AlertNetTestApp.StartAsync();
        _organizer = await _app.ClientWithRoleAsync(Roles.Organizer);
        await _app.TextAsync(Subscriber, "JOIN");
    }

    public async Task DisposeAsync() => await _app.DisposeAsync();

    [Fact]
    public async Task A_recurring_campaign_sends_its_message_each_time_it_fires_and_can_be_deleted()
    {
        var response = await _organizer.PostAsJsonAsync("/api/campaigns", new
        {
            name = "Monday rights",
            cron = "0 18 * * 1",
            timeZone = "America/New_York",
            bodies = new { en = "You have the right to remain silent." },
        });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var id = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetInt64();

        // Fire it now instead of waiting for Monday.
        _app.Services.GetRequiredService<IRecurringJobManager>().Trigger(RunCampaignJob.RecurringJobId(id));
        await Eventually.TrueAsync(() => _app.Carrier.AlertCountTo(Subscriber) == 1, TimeSpan.FromSeconds(30), "the campaign to go out");

        Assert.Equal("You have the right to remain silent.", Assert.Single(_app.Carrier.AlertMessages()).Body);
        var list = await _organizer.GetFromJsonAsync<JsonElement>("/api/campaigns");
        Assert.Equal("Monday rights", Assert.Single(list.EnumerateArray()).GetProperty("name").GetString());
        Assert.Equal(HttpStatusCode.NoContent, (await _organizer.DeleteAsync($"/api/campaigns/{id}")).StatusCode);
        Assert.Empty((await _organizer.GetFromJsonAsync<JsonElement>("/api/campaigns")).EnumerateArray());
    }

    [Theory]
    [InlineData("not a cron", "UTC", "cron must be")]
    [InlineData("0 18 * * 1", "Mars/Olympus", "timeZone must be")]
    public async Task A_campaign_with_a_bad_schedule_is_refused_with_the_reason(string cron, string zone, string reason)
    {
        var response = await _organizer.PostAsJsonAsync("/api/campaigns", new { name = "x", cron, timeZone = zone, bodies = new { en = "x" } });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains(reason, await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task In_a_groups_quiet_hours_bulk_messages_wait_and_urgent_alerts_go_out()
    {
        var now = TimeOnly.FromDateTime(DateTime.UtcNow);
        var response = await _organizer.PutAsJsonAsync("/api/groups/default/quiet-hours", new
        {
            start = now.AddHours(-1).ToString("HH:mm"),
            end = now.AddHours(1).ToString("HH:mm"),
            timeZone = "Etc/UTC",
        });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);

        var campaign = await AlertNetTestApp.TriggerAlertAsync(_organizer, new { type = "know_your_rights", bodies = new { en = "Rights" } });
        var urgent = await AlertNetTestApp.TriggerAlertAsync(_organizer, new { type = "urgent", bodies = new { en = "Raid" } });
        await AlertNetTestApp.WaitUntilSettledAsync(_organizer, urgent, expectedRecipients: 1);
        var held = await Eventually.ValueAsync(() => AlertNetTestApp.GetAlertAsync(_organizer, campaign),
            a => a.GetProperty("recipients").GetInt32() == 1, TimeSpan.FromSeconds(30));

        Assert.Equal(1, held.GetProperty("counts").GetProperty("pending").GetInt32());
        Assert.Equal("Raid", Assert.Single(_app.Carrier.AlertMessages()).Body);
        await using var connection = await _app.Db.OpenConnectionAsync();
        var until = await connection.ExecuteScalarAsync<DateTime>("SELECT claimed_until FROM deliveries WHERE alert_id = @campaign", new { campaign });
        Assert.InRange(until - DateTime.UtcNow, TimeSpan.FromMinutes(58), TimeSpan.FromMinutes(61));
    }

    [Theory]
    [InlineData("21:00", "08:00", "2026-11-28T23:30:00", "2026-11-29T08:00:00")]
    [InlineData("21:00", "08:00", "2026-11-28T03:00:00", "2026-11-28T08:00:00")]
    [InlineData("21:00", "08:00", "2026-11-28T12:00:00", null)]
    [InlineData("13:00", "14:00", "2026-11-28T13:30:00", "2026-11-28T14:00:00")]
    public void Quiet_hours_may_wrap_past_midnight(string start, string end, string nowUtc, string? expectedEndUtc)
    {
        var quiet = new QuietHours(TimeOnly.Parse(start), TimeOnly.Parse(end), TimeZoneInfo.Utc);

        var ends = quiet.EndsAfter(DateTime.SpecifyKind(DateTime.Parse(nowUtc), DateTimeKind.Utc));

        Assert.Equal(expectedEndUtc is null ? null : DateTime.SpecifyKind(DateTime.Parse(expectedEndUtc), DateTimeKind.Utc), ends);
    }

    [Fact]
    public void Quiet_hours_follow_the_groups_time_zone()
    {
        var quiet = new QuietHours(new TimeOnly(21, 0), new TimeOnly(8, 0), TimeZoneInfo.FindSystemTimeZoneById("America/New_York"));

        // 03:00 UTC is 22:00 in New York (EST): quiet until 08:00 EST, which is 13:00 UTC.
        var ends = quiet.EndsAfter(new DateTime(2026, 11, 28, 3, 0, 0, DateTimeKind.Utc));

        Assert.Equal(new DateTime(2026, 11, 28, 13, 0, 0, DateTimeKind.Utc), ends);
    }
}
