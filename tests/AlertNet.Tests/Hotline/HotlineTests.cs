using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using AlertNet.Infrastructure.Auth;
using AlertNet.Subscribers;
using AlertNet.Tests.Subscribers;
using AlertNet.Tests.Support;
using Dapper;
using AlertNet.Privacy;

namespace AlertNet.Tests.Hotline;

/// <summary>REPORT texts land in the hotline inbox, encrypted; coordinators read and review them through the API.</summary>
public sealed class HotlineTests(SubscriberAppFixture fixture) : IClassFixture<SubscriberAppFixture>, IAsyncLifetime
{
    private static readonly string Ana = TwilioInbound.Number(160);
    private static readonly string Beto = TwilioInbound.Number(161);

    private HttpClient _coordinator = null!;

    private AlertNetTestApp App => fixture.App;

    private Replies Replies => App.Services.GetRequiredService<Replies>();

    public async Task InitializeAsync()
    {
        await fixture.ResetAsync();
        _coordinator = await App.ClientWithRoleAsync(Roles.Coordinator);
    }

    public Task DisposeAsync()
    {
        _coordinator.Dispose();
        return Task.CompletedTask;
    }

    [Theory]
    [InlineData("REPORT 2 vans, agents at 5th & Main", "en", "2 vans, agents at 5th & Main")]
    [InlineData("Reporte: ¿agentes en la escuela Juárez?", "es", "¿agentes en la escuela Juárez?")]
    [InlineData("reportar agentes en el parque", "es", "agentes en el parque")]
    [InlineData("SIGNALER des agents devant l'école", "fr", "des agents devant l'école")]
    [InlineData("RAPÒ ajan nan lekòl la", "ht", "ajan nan lekòl la")]
    [InlineData("relatar agentes na escola", "pt", "agentes na escola")]
    public async Task A_report_from_anyone_lands_in_the_inbox_and_gets_a_reply_in_its_language(string text, string language, string stored)
    {
        var reply = await fixture.TextAsync(Ana, text);

        Assert.Equal(Replies.Get("reportReceived", language), reply);
        var report = Assert.Single(await ListAsync());
        Assert.Equal(stored, report.GetProperty("text").GetString());
        Assert.Equal("new", report.GetProperty("status").GetString());
        Assert.Equal("sms", report.GetProperty("channel").GetString());
        Assert.Equal("••• ••• 0160", report.GetProperty("reporter").GetString());
    }

    [Fact]
    public async Task A_subscriber_hears_back_in_the_subscribers_language()
    {
        await fixture.TextAsync("whatsapp:" + Beto, "ÚNETE");

        Assert.Equal(Replies.Get("reportReceived", "es"), await fixture.TextAsync("whatsapp:" + Beto, "REPORT agentes en la 5"));
        Assert.Equal("whatsapp", Assert.Single(await ListAsync()).GetProperty("channel").GetString());
    }

    [Theory]
    [InlineData("REPORT", "en")]
    [InlineData("  reporte!! ", "es")]
    [InlineData("REPORT 🚨🚨", "en")]
    public async Task Report_alone_asks_for_the_place_and_what_they_saw_and_stores_nothing(string text, string language)
    {
        Assert.Equal(Replies.Get("reportEmpty", language), await fixture.TextAsync(Ana, text));
        Assert.Empty(await ListAsync());
    }

    [Fact]
    public async Task Every_report_is_answered_not_only_once_a_day()
    {
        Assert.Equal(Replies.Get("reportReceived", "en"), await fixture.TextAsync(Ana, "REPORT agents at the school"));
        Assert.Equal(Replies.Get("reportReceived", "en"), await fixture.TextAsync(Ana, "REPORT now they are leaving"));
        Assert.Equal(2, (await ListAsync()).Count);
    }

    [Fact]
    public async Task Someone_who_texted_stop_is_still_heard_but_hears_nothing_back()
    {
        await fixture.TextAsync(Ana, "JOIN");
        await fixture.TextAsync(Ana, "STOP");

        Assert.Null(await fixture.TextAsync(Ana, "REPORT agents at the school"));
        Assert.Null(await fixture.TextAsync(Ana, "REPORT"));
        Assert.Equal("agents at the school", Assert.Single(await ListAsync()).GetProperty("text").GetString());
    }

    [Fact]
    public async Task The_database_holds_neither_the_reporters_number_nor_the_text_in_clear()
    {
        await fixture.TextAsync(Ana, "REPORT agents at Lincoln school");

        await using var connection = await App.Db.OpenConnectionAsync();
        var row = await connection.QuerySingleAsync<(long Id, byte[]? Index, byte[] Reporter, byte[] Body)>(
            "SELECT id, reporter_index, reporter_cipher, body_cipher FROM hotline_reports");
        // No index of the reporter at all: nothing joins a report to the reporter's subscription.
        Assert.Null(row.Index);
        Assert.Equal(Ana, App.Protector.Decrypt(row.Reporter, CipherPlaces.HotlineReporter(row.Id)));
        Assert.Equal("agents at Lincoln school", App.Protector.Decrypt(row.Body, CipherPlaces.HotlineText(row.Id)));
        var dump = await connection.ExecuteScalarAsync<string>("SELECT string_agg(t::text, '|') FROM hotline_reports t");
        Assert.DoesNotContain("Lincoln", dump, StringComparison.Ordinal);
        Assert.DoesNotContain("2025550160", dump, StringComparison.Ordinal);
        Assert.DoesNotContain(App.Logs.Lines, line => line.Contains("Lincoln", StringComparison.Ordinal) || line.Contains("5550160", StringComparison.Ordinal));
    }

    [Fact]
    public async Task The_inbox_lists_newest_first_a_page_at_a_time()
    {
        for (var i = 1; i <= 5; i++)
        {
            await fixture.TextAsync(TwilioInbound.Number(170 + i), $"REPORT sighting {i}");
        }

        var first = await _coordinator.GetFromJsonAsync<JsonElement>("/api/hotline?limit=2");
        Assert.Equal(["sighting 5", "sighting 4"], Texts(first));
        var second = await _coordinator.GetFromJsonAsync<JsonElement>($"/api/hotline?limit=2&before={first.GetProperty("nextBefore").GetInt64()}");
        Assert.Equal(["sighting 3", "sighting 2"], Texts(second));
        var last = await _coordinator.GetFromJsonAsync<JsonElement>($"/api/hotline?limit=2&before={second.GetProperty("nextBefore").GetInt64()}");
        Assert.Equal(["sighting 1"], Texts(last));
        Assert.Equal(JsonValueKind.Null, last.GetProperty("nextBefore").ValueKind);
        Assert.Equal(5, (await ListAsync()).Count);
    }

    [Theory]
    [InlineData("/api/hotline?limit=0")]
    [InlineData("/api/hotline?limit=201")]
    [InlineData("/api/hotline?before=-1")]
    [InlineData("/api/hotline?limit=ten")]
    public async Task Bad_paging_gets_400(string url) =>
        Assert.Equal(HttpStatusCode.BadRequest, (await _coordinator.GetAsync(url)).StatusCode);

    [Theory]
    [InlineData(Roles.Coordinator)]
    [InlineData(Roles.Organizer)]
    [InlineData(Roles.Admin)]
    public async Task Coordinators_organizers_and_admins_review_a_report_and_the_audit_log_records_it(string role)
    {
        await fixture.TextAsync(Ana, "REPORT agents at the school");
        var id = Assert.Single(await ListAsync()).GetProperty("id").GetInt64();
        using var client = await App.ClientWithRoleAsync(role);

        var response = await client.PostAsJsonAsync($"/api/hotline/{id}/review", new { status = "verified" });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var report = Assert.Single(await ListAsync());
        Assert.Equal("verified", report.GetProperty("status").GetString());
        Assert.Equal("test-" + role, report.GetProperty("reviewedBy").GetString());
        Assert.NotEqual(JsonValueKind.Null, report.GetProperty("reviewedAt").ValueKind);
        Assert.Equal(("test-" + role, $"hotline:{id}", "verified"), await LastAuditAsync("hotline.review"));

        await client.PostAsJsonAsync($"/api/hotline/{id}/review", new { status = "false_alarm" });
        Assert.Equal("false_alarm", Assert.Single(await ListAsync()).GetProperty("status").GetString());
    }

    [Theory]
    [InlineData("{\"status\":\"new\"}")]
    [InlineData("{\"status\":\"deleted\"}")]
    [InlineData("{}")]
    [InlineData("{\"status\":5}")]
    [InlineData("not json")]
    public async Task A_review_must_say_verified_or_false_alarm(string body)
    {
        await fixture.TextAsync(Ana, "REPORT agents at the school");
        var id = Assert.Single(await ListAsync()).GetProperty("id").GetInt64();

        var response = await _coordinator.PostAsync($"/api/hotline/{id}/review", new StringContent(body, System.Text.Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("new", Assert.Single(await ListAsync()).GetProperty("status").GetString());
    }

    [Fact]
    public async Task Reviewing_a_report_that_does_not_exist_gets_404() =>
        Assert.Equal(HttpStatusCode.NotFound, (await _coordinator.PostAsJsonAsync("/api/hotline/999999/review", new { status = "verified" })).StatusCode);

    [Fact]
    public async Task The_inbox_is_closed_without_a_token()
    {
        using var anonymous = new HttpClient { BaseAddress = new Uri(App.BaseUrl) };

        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("/api/hotline")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.PostAsJsonAsync("/api/hotline/1/review", new { status = "verified" })).StatusCode);
    }

    [Fact]
    public async Task The_reporters_number_never_appears_in_full_in_the_api()
    {
        await fixture.TextAsync(Ana, "REPORT agents at the school");

        var json = await _coordinator.GetStringAsync("/api/hotline");

        Assert.DoesNotContain("2025550160", json, StringComparison.Ordinal);
        Assert.Contains("0160", json, StringComparison.Ordinal);
    }

    private async Task<List<JsonElement>> ListAsync() =>
        (await _coordinator.GetFromJsonAsync<JsonElement>("/api/hotline")).GetProperty("reports").EnumerateArray().ToList();

    private static string[] Texts(JsonElement page) =>
        page.GetProperty("reports").EnumerateArray().Select(r => r.GetProperty("text").GetString()!).ToArray();

    private async Task<(string Actor, string Subject, string Status)> LastAuditAsync(string action)
    {
        await using var connection = await App.Db.OpenConnectionAsync();
        return await connection.QueryFirstAsync<(string, string, string)>(
            "SELECT actor, subject, details->>'Status' FROM audit_log WHERE action = @action ORDER BY id DESC", new { action });
    }

    [Fact]
    public async Task Reports_of_one_sighting_are_grouped_and_an_alert_from_one_of_them_is_linked_to_all()
    {
        await App.TextAsync(Ana, "REPORT two vans at the laundromat");
        await App.TextAsync(Beto, "REPORT agents near the laundromat on 5th");
        await App.TextAsync(TwilioInbound.Number(162), "REPORTE camionetas en la lavandería");
        var ids = (await ReportsAsync()).Select(r => r.GetProperty("id").GetInt64()).Order().ToArray();

        using (var grouped = await _coordinator.PostAsJsonAsync($"/api/hotline/{ids[1]}/same-sighting", new { sameAs = ids[0] }))
        {
            Assert.Equal(HttpStatusCode.OK, grouped.StatusCode);
        }

        using (var chained = await _coordinator.PostAsJsonAsync($"/api/hotline/{ids[2]}/same-sighting", new { sameAs = ids[1] }))
        {
            Assert.Equal(HttpStatusCode.OK, chained.StatusCode);
        }

        using (var again = await _coordinator.PostAsJsonAsync($"/api/hotline/{ids[0]}/same-sighting", new { sameAs = ids[2] }))
        {
            Assert.Equal(HttpStatusCode.Conflict, again.StatusCode);
        }

        using (var unknown = await _coordinator.PostAsJsonAsync($"/api/hotline/{ids[0]}/same-sighting", new { sameAs = 999_999 }))
        {
            Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        }

        var sightings = (await ReportsAsync()).ToDictionary(r => r.GetProperty("id").GetInt64(), r => r.GetProperty("sighting"));
        Assert.Equal(JsonValueKind.Null, sightings[ids[0]].ValueKind);
        Assert.Equal(ids[0], sightings[ids[1]].GetInt64());
        Assert.Equal(ids[0], sightings[ids[2]].GetInt64());

        var organizer = await App.ClientWithRoleAsync(Roles.Organizer);
        var alert = await AlertNetTestApp.TriggerAlertAsync(organizer,
            new { type = "urgent", bodies = new { en = "Agents at the laundromat" }, verification = "in_person", reports = new[] { ids[2] } });
        Assert.All(await ReportsAsync(), r => Assert.Equal(alert, r.GetProperty("alertId").GetInt64()));
    }

    private async Task<List<JsonElement>> ReportsAsync() =>
        (await _coordinator.GetFromJsonAsync<JsonElement>("/api/hotline")).GetProperty("reports").EnumerateArray().ToList();
}
