using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using AlertNet.Infrastructure.Auth;
using AlertNet.Tests.Support;
using Dapper;

namespace AlertNet.Tests.Subscribers;

public sealed class GroupsApiTests(SubscriberAppFixture fixture) : IClassFixture<SubscriberAppFixture>, IAsyncLifetime
{
    private HttpClient _organizer = null!;

    private AlertNetTestApp App => fixture.App;

    public async Task InitializeAsync()
    {
        await fixture.ResetAsync();
        _organizer = await App.ClientWithRoleAsync(Roles.Organizer);
    }

    public Task DisposeAsync()
    {
        _organizer.Dispose();
        return Task.CompletedTask;
    }

    [Fact]
    public async Task Organizers_and_admins_create_groups_and_all_staff_list_them()
    {
        var group = new { name = "Eastside", keywords = new[] { "ESTE" } };
        using var coordinator = await App.ClientWithRoleAsync(Roles.Coordinator);
        using var admin = await App.ClientWithRoleAsync(Roles.Admin);
        using var forged = new HttpClient { BaseAddress = new Uri(App.BaseUrl) };
        forged.DefaultRequestHeaders.Authorization = new("Bearer", "an_not-a-real-token");

        Assert.Equal(HttpStatusCode.Unauthorized, (await App.Http.PostAsJsonAsync("/api/groups", group)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await forged.PostAsJsonAsync("/api/groups", group)).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await coordinator.PostAsJsonAsync("/api/groups", group)).StatusCode);
        Assert.Equal(HttpStatusCode.Created, (await _organizer.PostAsJsonAsync("/api/groups", group)).StatusCode);
        Assert.Equal(HttpStatusCode.Created, (await admin.PostAsJsonAsync("/api/groups", new { name = "Northside" })).StatusCode);

        Assert.Equal(HttpStatusCode.Unauthorized, (await App.Http.GetAsync("/api/groups")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await forged.GetAsync("/api/groups")).StatusCode);
        foreach (var staff in new[] { coordinator, _organizer, admin })
        {
            var groups = await staff.GetFromJsonAsync<JsonElement>("/api/groups");
            Assert.Equal(["default", "Eastside", "Northside"], groups.EnumerateArray().Select(g => g.GetProperty("name").GetString()));
        }
    }

    [Fact]
    public async Task A_new_group_answers_with_its_normalized_keywords_and_is_audited()
    {
        var response = await _organizer.PostAsJsonAsync("/api/groups",
            new { name = "  East Side ", keywords = new[] { "eastside!", "Lado Este", "EASTSIDE" }, doubleOptIn = true });

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var group = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("East Side", group.GetProperty("name").GetString());
        Assert.Equal(["EAST SIDE", "EASTSIDE", "LADO ESTE"], group.GetProperty("keywords").EnumerateArray().Select(k => k.GetString()));
        Assert.True(group.GetProperty("doubleOptIn").GetBoolean());
        await using var connection = await App.Db.OpenConnectionAsync();
        Assert.Equal(1, await connection.ExecuteScalarAsync<int>(
            "SELECT count(*) FROM audit_log WHERE action = 'group.create' AND actor = 'test-organizer'"));
    }

    [Theory]
    [InlineData("""{"keywords":["ESTE"]}""", "name is required")]
    [InlineData("""{"name":"   "}""", "name is required")]
    [InlineData("""{"name":"🚨🚨"}""", "name is required")]
    [InlineData("""{"name":"Eastside","keywords":["!!"]}""", "Every keyword needs letters or digits")]
    [InlineData("""{"name":"Eastside","keywords":["STOP"]}""", "'STOP' is one of AlertNet's own keywords")]
    [InlineData("""{"name":"Eastside","keywords":["join"]}""", "'join' is one of AlertNet's own keywords")]
    [InlineData("""{"name":"Eastside","keywords":["Help"]}""", "'Help' is one of AlertNet's own keywords")]
    [InlineData("""{"name":"Eastside","keywords":["Únete"]}""", "'Únete' is one of AlertNet's own keywords")]
    [InlineData("""{"name":"Eastside","keywords":["stop sign"]}""", "'stop sign' is one of AlertNet's own keywords")]
    [InlineData("""{"name":"Alto"}""", "'Alto' is one of AlertNet's own keywords")]
    [InlineData("""{"name":"Eastside","keywords":["ABCDEFGHIJKLMNOPQRSTUVWXYZABCDE"]}""", "longer than 30 characters")]
    public async Task Bad_group_requests_get_400_with_the_reason(string json, string reason)
    {
        var response = await _organizer.PostAsync("/api/groups", new StringContent(json, Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains(reason, await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{"name":"eastside"}""", "A group named 'eastside' already exists")]
    [InlineData("""{"name":"Default"}""", "A group named 'Default' already exists")]
    [InlineData("""{"name":"Westside","keywords":["este"]}""", "Keyword 'ESTE' is already used by group 'Eastside'")]
    [InlineData("""{"name":"East-side"}""", "Keyword 'EAST SIDE' is already used by group 'Eastside'")]
    public async Task Group_names_and_keywords_are_unique_across_groups(string json, string reason)
    {
        Assert.Equal(HttpStatusCode.Created,
            (await _organizer.PostAsJsonAsync("/api/groups", new { name = "Eastside", keywords = new[] { "ESTE", "East Side" } })).StatusCode);

        var response = await _organizer.PostAsync("/api/groups", new StringContent(json, Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains(reason, await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_list_counts_active_members_per_language_and_never_shows_a_number()
    {
        await _organizer.PostAsJsonAsync("/api/groups", new { name = "Eastside", keywords = new[] { "ESTE" } });
        await _organizer.PostAsJsonAsync("/api/groups", new { name = "Northside", doubleOptIn = true });
        await fixture.TextAsync(TwilioInbound.Number(140), "JOIN EASTSIDE");
        await fixture.TextAsync("whatsapp:" + TwilioInbound.Number(141), "ÚNETE ESTE");
        await fixture.TextAsync(TwilioInbound.Number(142), "ESTE");
        await fixture.TextAsync(TwilioInbound.Number(142), "ESPAÑOL");
        await fixture.TextAsync(TwilioInbound.Number(143), "REJOINDRE EASTSIDE");
        await fixture.TextAsync(TwilioInbound.Number(143), "STOP");
        await fixture.TextAsync(TwilioInbound.Number(144), "JOIN NORTHSIDE");
        await fixture.TextAsync(TwilioInbound.Number(145), "JOIN");
        using var coordinator = await App.ClientWithRoleAsync(Roles.Coordinator);

        var json = await coordinator.GetStringAsync("/api/groups");

        var groups = JsonDocument.Parse(json).RootElement.EnumerateArray().ToDictionary(g => g.GetProperty("name").GetString()!);
        var eastside = groups["Eastside"];
        Assert.Equal(3, eastside.GetProperty("activeMembers").GetInt32());
        Assert.Equal("""{"en":1,"es":2}""", eastside.GetProperty("activeMembersByLanguage").GetRawText());
        Assert.Equal(0, groups["Northside"].GetProperty("activeMembers").GetInt32());
        Assert.Equal(1, groups["Northside"].GetProperty("pendingMembers").GetInt32());
        Assert.True(groups["Northside"].GetProperty("doubleOptIn").GetBoolean());
        Assert.Equal(1, groups["default"].GetProperty("activeMembers").GetInt32());
        Assert.True(groups["default"].GetProperty("isDefault").GetBoolean());
        Assert.DoesNotContain("555", json, StringComparison.Ordinal);
        Assert.DoesNotContain("whatsapp", json, StringComparison.Ordinal);
    }
}
