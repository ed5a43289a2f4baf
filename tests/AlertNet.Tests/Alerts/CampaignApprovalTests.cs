using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using AlertNet.Alerts;
using AlertNet.Infrastructure.Auth;
using AlertNet.Tests.Support;
using Dapper;
using Hangfire;

namespace AlertNet.Tests.Alerts;

/// <summary>Two people for recurring sends too: a campaign whose runs would reach more than Alerts:ApprovalThreshold
/// people runs only once a second organizer approved it, again after every change, and again when it would reach more
/// than 10 % more people than were approved. Schedules are five-field cron at least an hour apart.</summary>
public sealed class CampaignApprovalTests : IAsyncLifetime
{
    private static readonly string[] Subscribers = AlertNetTestApp.Numbers(3, first: 7300);
    private static readonly string Newcomer = AlertNetTestApp.Numbers(1, first: 7310)[0];

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
    public async Task The_issue_attack_a_campaign_above_the_threshold_sends_nothing_until_a_second_organizer_approves_it()
    {
        // The request from issue 10: threshold 2, a campaign every five seconds, nobody approving. Refused outright now.
        var everyFiveSeconds = await _maria.PostAsJsonAsync("/api/campaigns",
            new { name = "Rights", cron = "*/5 * * * * *", bodies = new { en = "Know your rights" } });
        Assert.Equal(HttpStatusCode.BadRequest, everyFiveSeconds.StatusCode);
        Assert.Contains("second-level cron expressions are not accepted", await everyFiveSeconds.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        // The same with a schedule a campaign may have: it waits for a second organizer.
        var created = await ScheduleAsync(_maria, "Rights", "0 * * * *", "Know your rights");
        Assert.Equal("awaiting_approval", created.GetProperty("state").GetString());
        Assert.Equal(3, created.GetProperty("recipients").GetInt32());
        Assert.Contains("another organizer approves it", created.GetProperty("message").GetString(), StringComparison.Ordinal);
        var id = created.GetProperty("id").GetInt64();

        await RunAsync(id, expectAudit: "campaign.run-held");
        Assert.Equal(0, await CountAsync("SELECT count(*) FROM alerts"));
        Assert.Empty(_app.Carrier.AlertMessages());

        using var coordinator = await _app.ClientAsAsync("carla", Roles.Coordinator);
        Assert.Equal(HttpStatusCode.Forbidden, (await coordinator.PostAsync($"/api/campaigns/{id}/approve", null)).StatusCode);
        using var mariaAgain = await _app.ClientAsAsync("sms:Maria", Roles.Organizer);
        var own = await mariaAgain.PostAsync($"/api/campaigns/{id}/approve", null);
        Assert.Equal(HttpStatusCode.Forbidden, own.StatusCode);
        Assert.Contains("another organizer must approve it", await own.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal("awaiting_approval", (await CampaignAsync(id)).GetProperty("state").GetString());

        var approved = await _jose.PostAsync($"/api/campaigns/{id}/approve", null);

        Assert.Equal(HttpStatusCode.OK, approved.StatusCode);
        var campaign = await CampaignAsync(id);
        Assert.Equal("active", campaign.GetProperty("state").GetString());
        Assert.Equal(3, campaign.GetProperty("approvedRecipients").GetInt32());
        Assert.Equal("jose", campaign.GetProperty("approvedBy").GetString());
        await RunAsync(id);
        await Eventually.TrueAsync(() => Subscribers.All(n => _app.Carrier.AlertCountTo(n) == 1), TimeSpan.FromSeconds(30), "the approved run");
        Assert.Equal(HttpStatusCode.Conflict, (await _jose.PostAsync($"/api/campaigns/{id}/approve", null)).StatusCode);
        Assert.Equal(["maria campaign.schedule", "campaign:Rights campaign.run-held", "sms:Maria campaign.approve-refused", "jose campaign.approve"],
            await AuditAsync(id));
    }

    [Fact]
    public async Task A_run_that_would_reach_more_than_ten_percent_more_people_than_approved_waits_for_approval_again()
    {
        var id = (await ScheduleAsync(_maria, "Weekly", "0 18 * * 1", "Weekly rights")).GetProperty("id").GetInt64();
        Assert.Equal(HttpStatusCode.OK, (await _jose.PostAsync($"/api/campaigns/{id}/approve", null)).StatusCode);
        await RunAsync(id);
        await Eventually.TrueAsync(() => Subscribers.All(n => _app.Carrier.AlertCountTo(n) == 1), TimeSpan.FromSeconds(30), "the first run");

        // One more person: 4 is a third more than the 3 approved.
        await _app.TextAsync(Newcomer, "JOIN");
        await ExecuteAsync("UPDATE campaigns SET last_run_at = last_run_at - interval '1 week'");
        await RunAsync(id, expectAudit: "campaign.hold");

        var waiting = await CampaignAsync(id);
        Assert.Equal("awaiting_approval", waiting.GetProperty("state").GetString());
        Assert.Equal("grew", waiting.GetProperty("awaitingReason").GetString());
        Assert.Equal(4, waiting.GetProperty("estimatedRecipients").GetInt32());
        Assert.Equal(3, waiting.GetProperty("approvedRecipients").GetInt32());
        Assert.Equal(1, await CountAsync("SELECT count(*) FROM alerts"));
        Assert.Equal(0, _app.Carrier.AlertCountTo(Newcomer));
        // The held campaign still belongs to maria: she cannot approve its growth herself.
        Assert.Equal(HttpStatusCode.Forbidden, (await _maria.PostAsync($"/api/campaigns/{id}/approve", null)).StatusCode);

        Assert.Equal(HttpStatusCode.OK, (await _jose.PostAsync($"/api/campaigns/{id}/approve", null)).StatusCode);
        Assert.Equal(4, (await CampaignAsync(id)).GetProperty("approvedRecipients").GetInt32());
        await ExecuteAsync("UPDATE campaigns SET last_run_at = last_run_at - interval '1 week'");
        await RunAsync(id);
        await Eventually.TrueAsync(() => _app.Carrier.AlertCountTo(Newcomer) == 1 && Subscribers.All(n => _app.Carrier.AlertCountTo(n) == 2),
            TimeSpan.FromSeconds(30), "the run approved for four people");
    }

    [Theory]
    [InlineData(3, null, true)]   // above the threshold (2), never approved by a second organizer
    [InlineData(2, null, false)]  // at the threshold
    [InlineData(11, 10, false)]   // 10 % more than approved: still covered
    [InlineData(12, 10, true)]    // more than 10 % more
    [InlineData(5, 10, false)]    // fewer people than approved
    public void The_growth_rule_allows_ten_percent_more_than_approved(int recipients, int? approved, bool waits)
    {
        Assert.Equal(waits, CampaignApproval.RunNeedsApproval(recipients, approved, threshold: 2));
        Assert.False(CampaignApproval.RunNeedsApproval(recipients, approved, threshold: 0));
    }

    [Fact]
    public async Task Changing_an_approved_campaign_needs_a_second_organizer_again()
    {
        var id = (await ScheduleAsync(_maria, "Monthly", "0 18 1 * *", "Monthly rights")).GetProperty("id").GetInt64();
        Assert.Equal(HttpStatusCode.OK, (await _jose.PostAsync($"/api/campaigns/{id}/approve", null)).StatusCode);

        var changed = await _maria.PutAsJsonAsync($"/api/campaigns/{id}",
            new { name = "Monthly", cron = "0 18 1 * *", bodies = new { en = "Changed text, same people" } });

        Assert.Equal(HttpStatusCode.OK, changed.StatusCode);
        var body = await changed.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("awaiting_approval", body.GetProperty("state").GetString());
        Assert.Equal(3, body.GetProperty("recipients").GetInt32());
        var campaign = await CampaignAsync(id);
        Assert.Equal("changed", campaign.GetProperty("awaitingReason").GetString());
        Assert.Equal(JsonValueKind.Null, campaign.GetProperty("approvedBy").ValueKind);
        await RunAsync(id, expectAudit: "campaign.run-held");
        Assert.Empty(_app.Carrier.AlertMessages());

        // Jose changes it again: now maria is the second person, and jose may not approve his own change.
        Assert.Equal(HttpStatusCode.OK, (await _jose.PutAsJsonAsync($"/api/campaigns/{id}",
            new { name = "Monthly", cron = "0 18 1 * *", bodies = new { en = "Jose's text" } })).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await _jose.PostAsync($"/api/campaigns/{id}/approve", null)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await _maria.PostAsync($"/api/campaigns/{id}/approve", null)).StatusCode);
        await RunAsync(id);
        await Eventually.TrueAsync(() => Subscribers.All(n => _app.Carrier.AlertCountTo(n) == 1), TimeSpan.FromSeconds(30), "the approved change");
        Assert.All(_app.Carrier.AlertMessages(), m => Assert.Equal("Jose's text", m.Body));
        Assert.Equal(["maria campaign.schedule", "jose campaign.approve", "maria campaign.update", "campaign:Monthly campaign.run-held",
            "jose campaign.update", "jose campaign.approve-refused", "maria campaign.approve"], await AuditAsync(id));
        Assert.Equal(HttpStatusCode.NotFound, (await _maria.PutAsJsonAsync("/api/campaigns/999999",
            new { name = "x", cron = "0 18 1 * *", bodies = new { en = "x" } })).StatusCode);
    }

    [Fact]
    public async Task An_approval_of_the_version_read_is_refused_when_the_campaign_changed_since_and_the_overview_counts_it()
    {
        var id = (await ScheduleAsync(_maria, "Weekly", "0 9 * * 1", "Weekly rights")).GetProperty("id").GetInt64();
        var read = (await CampaignAsync(id)).GetProperty("version").GetString();
        Assert.False(string.IsNullOrEmpty(read));
        Assert.Equal(1, (await _jose.GetFromJsonAsync<JsonElement>("/api/overview")).GetProperty("awaitingApproval").GetInt32());

        // Maria swaps the text while Jose reads the old one: his approval names what he read, so it is refused.
        Assert.Equal(HttpStatusCode.OK, (await _maria.PutAsJsonAsync($"/api/campaigns/{id}",
            new { name = "Weekly", cron = "0 9 * * 1", bodies = new { en = "Something else entirely" } })).StatusCode);
        var stale = await _jose.PostAsJsonAsync($"/api/campaigns/{id}/approve", new { version = read });

        Assert.Equal(HttpStatusCode.Conflict, stale.StatusCode);
        Assert.Contains("changed after you read it", await stale.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        var campaign = await CampaignAsync(id);
        Assert.Equal("awaiting_approval", campaign.GetProperty("state").GetString());
        var current = campaign.GetProperty("version").GetString();
        Assert.NotEqual(read, current);

        Assert.Equal(HttpStatusCode.OK, (await _jose.PostAsJsonAsync($"/api/campaigns/{id}/approve", new { version = current })).StatusCode);
        Assert.Equal("active", (await CampaignAsync(id)).GetProperty("state").GetString());
        Assert.Equal(0, (await _jose.GetFromJsonAsync<JsonElement>("/api/overview")).GetProperty("awaitingApproval").GetInt32());
    }

    [Fact]
    public async Task A_rejected_campaign_never_runs_and_coordinators_cannot_approve_or_reject()
    {
        var id = (await ScheduleAsync(_maria, "Unverified", "0 9 * * *", "Unverified text")).GetProperty("id").GetInt64();
        using var coordinator = await _app.ClientAsAsync("carla", Roles.Coordinator);
        Assert.Equal(HttpStatusCode.Forbidden, (await coordinator.PostAsJsonAsync($"/api/campaigns/{id}/reject", new { })).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await coordinator.PutAsJsonAsync($"/api/campaigns/{id}",
            new { name = "x", cron = "0 9 * * *", bodies = new { en = "x" } })).StatusCode);

        var rejected = await _jose.PostAsJsonAsync($"/api/campaigns/{id}/reject", new { reason = "Text not checked by the legal team" });

        Assert.Equal(HttpStatusCode.OK, rejected.StatusCode);
        var campaign = await CampaignAsync(id);
        Assert.Equal("rejected", campaign.GetProperty("state").GetString());
        Assert.Equal("jose", campaign.GetProperty("rejectedBy").GetString());
        Assert.Equal("Text not checked by the legal team", campaign.GetProperty("rejectReason").GetString());
        Assert.Equal(HttpStatusCode.Conflict, (await _jose.PostAsync($"/api/campaigns/{id}/approve", null)).StatusCode);
        await RunAsync(id, expectAudit: "campaign.run-held");
        Assert.Empty(_app.Carrier.AlertMessages());
        Assert.Contains("jose campaign.reject", await AuditAsync(id));
    }

    [Theory]
    [InlineData("*/5 * * * * *", "UTC", "second-level cron expressions are not accepted")]
    [InlineData("0 0 */6 * * *", "UTC", "second-level cron expressions are not accepted")]
    [InlineData("*/30 * * * *", "UTC", "campaign runs must be at least 1 hour apart")]
    [InlineData("* * * * *", "UTC", "cron runs 1 minute apart")]
    [InlineData("0 9,17 * * *", "UTC", null)]
    // Spring forward in New York: 02:30 does not exist and runs at 03:00, half an hour after 01:30.
    [InlineData("30 1,2 * * *", "America/New_York", "cron runs 30 minutes apart")]
    [InlineData("30 1,2 * * *", "UTC", null)]
    [InlineData("0 9 30 2 *", "UTC", "never runs")]
    [InlineData("not a cron", "UTC", "cron must be a cron expression")]
    public async Task Schedules_closer_than_an_hour_or_with_seconds_are_refused_with_the_reason(string cron, string zone, string? reason)
    {
        var response = await _maria.PostAsJsonAsync("/api/campaigns", new { name = "Schedule", cron, timeZone = zone, bodies = new { en = "x" } });

        if (reason is null)
        {
            Assert.Equal(HttpStatusCode.Created, response.StatusCode);
            return;
        }

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains(reason, await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Empty((await _maria.GetFromJsonAsync<JsonElement>("/api/campaigns")).EnumerateArray());
        Assert.Equal(0, await CountAsync("SELECT count(*) FROM hangfire.set WHERE key = 'recurring-jobs' AND value LIKE 'campaign:%'"));
    }

    [Fact]
    public async Task A_change_to_a_second_level_or_too_frequent_schedule_is_refused_and_changes_nothing()
    {
        var id = (await ScheduleAsync(_maria, "Daily", "0 9 * * *", "Daily rights")).GetProperty("id").GetInt64();

        var seconds = await _maria.PutAsJsonAsync($"/api/campaigns/{id}", new { name = "Daily", cron = "*/5 * * * * *", bodies = new { en = "x" } });
        var minutes = await _maria.PutAsJsonAsync($"/api/campaigns/{id}", new { name = "Daily", cron = "*/10 * * * *", bodies = new { en = "x" } });

        Assert.Equal(HttpStatusCode.BadRequest, seconds.StatusCode);
        Assert.Contains("second-level", await seconds.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.BadRequest, minutes.StatusCode);
        Assert.Contains("at least 1 hour apart", await minutes.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal("0 9 * * *", (await CampaignAsync(id)).GetProperty("cron").GetString());
    }

    [Fact]
    public async Task A_run_right_after_the_last_one_is_skipped()
    {
        var id = (await ScheduleAsync(_maria, "Doubled", "0 9 * * *", "Once")).GetProperty("id").GetInt64();
        Assert.Equal(HttpStatusCode.OK, (await _jose.PostAsync($"/api/campaigns/{id}/approve", null)).StatusCode);
        await RunAsync(id);
        await Eventually.TrueAsync(() => Subscribers.All(n => _app.Carrier.AlertCountTo(n) == 1), TimeSpan.FromSeconds(30), "the run");

        await RunAsync(id, expectAudit: "campaign.run-skipped");

        Assert.Equal(1, await CountAsync("SELECT count(*) FROM alerts"));
    }

    [Fact]
    public async Task A_campaign_saved_with_a_seconds_schedule_before_the_rule_is_taken_off_the_schedule_at_its_first_run()
    {
        // As the issue's campaign would be after an upgrade: in the table, active, and registered with Hangfire every 5 s.
        long id;
        await using (var connection = await _app.Db.OpenConnectionAsync())
        {
            id = await connection.ExecuteScalarAsync<long>(
                """
                INSERT INTO campaigns (name, cron, time_zone, bodies, target_groups, created_by, requested_by)
                VALUES ('Old', '*/5 * * * * *', 'UTC', '{"en": "Every five seconds"}', '{default}', 'maria', 'maria') RETURNING id
                """);
        }

        var recurring = _app.Services.GetRequiredService<IRecurringJobManager>();
        recurring.AddOrUpdate<RunCampaignJob>(RunCampaignJob.RecurringJobId(id),
            AlertNet.Infrastructure.Jobs.Lanes.Bulk, job => job.RunAsync(id, CancellationToken.None), "*/5 * * * * *");
        recurring.Trigger(RunCampaignJob.RecurringJobId(id));
        await Eventually.TrueAsync(async () => await CountAsync(
                $"SELECT count(*) FROM audit_log WHERE subject = 'campaign:{id}' AND action = 'campaign.schedule-refused'") == 1,
            TimeSpan.FromSeconds(30), "the first run to refuse the schedule");

        var campaign = await CampaignAsync(id);
        Assert.Equal("rejected", campaign.GetProperty("state").GetString());
        Assert.Contains("second-level cron expressions are not accepted", campaign.GetProperty("rejectReason").GetString(), StringComparison.Ordinal);
        Assert.Equal(0, await CountAsync("SELECT count(*) FROM hangfire.set WHERE key = 'recurring-jobs' AND value LIKE 'campaign:%'"));
        Assert.Equal(0, await CountAsync("SELECT count(*) FROM alerts"));
        Assert.Empty(_app.Carrier.AlertMessages());
    }

    private static async Task<JsonElement> ScheduleAsync(HttpClient organizer, string name, string cron, string text)
    {
        var response = await organizer.PostAsJsonAsync("/api/campaigns", new { name, cron, timeZone = "UTC", bodies = new { en = text } });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }

    /// <summary>Fires the campaign's recurring job as the schedule would, and waits until the run is over: the alert it
    /// created, or the audit entry it wrote instead.</summary>
    private async Task RunAsync(long id, string? expectAudit = null)
    {
        var subject = $"campaign:{id}";
        var auditsBefore = await CountAsync($"SELECT count(*) FROM audit_log WHERE subject = '{subject}' AND action = '{expectAudit}'");
        var alertsBefore = await CountAsync("SELECT count(*) FROM alerts");
        _app.Services.GetRequiredService<IRecurringJobManager>().Trigger(RunCampaignJob.RecurringJobId(id));
        await Eventually.TrueAsync(async () => expectAudit is null
                ? await CountAsync("SELECT count(*) FROM alerts") > alertsBefore
                : await CountAsync($"SELECT count(*) FROM audit_log WHERE subject = '{subject}' AND action = '{expectAudit}'") > auditsBefore,
            TimeSpan.FromSeconds(30), expectAudit ?? "the run's alert");
    }

    private async Task<JsonElement> CampaignAsync(long id) =>
        (await _jose.GetFromJsonAsync<JsonElement>("/api/campaigns")).EnumerateArray().Single(c => c.GetProperty("id").GetInt64() == id);

    private async Task<List<string>> AuditAsync(long id)
    {
        await using var connection = await _app.Db.OpenConnectionAsync();
        return (await connection.QueryAsync<string>(
            "SELECT actor || ' ' || action FROM audit_log WHERE subject = @subject ORDER BY id", new { subject = $"campaign:{id}" })).ToList();
    }

    private async Task<int> CountAsync(string sql)
    {
        await using var connection = await _app.Db.OpenConnectionAsync();
        return await connection.ExecuteScalarAsync<int>(sql);
    }

    private async Task ExecuteAsync(string sql)
    {
        await using var connection = await _app.Db.OpenConnectionAsync();
        await connection.ExecuteAsync(sql);
    }
}
