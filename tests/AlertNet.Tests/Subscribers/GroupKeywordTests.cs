using System.Net;
using System.Net.Http.Json;
using AlertNet.Infrastructure.Auth;
using AlertNet.Privacy;
using AlertNet.Tests.Support;
using Dapper;

namespace AlertNet.Tests.Subscribers;

/// <summary>Joining and leaving groups by text: JOIN &lt;group&gt;, a group's own keyword, double opt-in
/// with YES, STOP &lt;group&gt; versus STOP.</summary>
public sealed class GroupKeywordTests(SubscriberAppFixture fixture) : IClassFixture<SubscriberAppFixture>, IAsyncLifetime
{
    private static readonly string Ana = TwilioInbound.Number(130);
    private static readonly string Beto = TwilioInbound.Number(131);

    private HttpClient _organizer = null!;

    private AlertNetTestApp App => fixture.App;

    public async Task InitializeAsync()
    {
        await fixture.ResetAsync();
        _organizer = await App.ClientWithRoleAsync(Roles.Organizer);
        await CreateGroupAsync(new { name = "Eastside", keywords = new[] { "ESTE", "Lado Este" } });
        await CreateGroupAsync(new { name = "Northside", keywords = new[] { "NORTE" }, doubleOptIn = true });
    }

    public Task DisposeAsync()
    {
        _organizer.Dispose();
        return Task.CompletedTask;
    }

    [Theory]
    [InlineData("JOIN EASTSIDE", "en")]
    [InlineData("join eastside!", "en")]
    [InlineData("Eastside", "en")]
    [InlineData("este", "en")]
    [InlineData("lado-este", "en")]
    [InlineData("ÚNETE ESTE", "es")]
    [InlineData("unirse eastside", "es")]
    [InlineData("REJOINDRE EASTSIDE", "fr")]
    public async Task Join_with_a_group_or_the_groups_own_keyword_joins_that_group(string text, string language)
    {
        foreach (var from in new[] { Ana, "whatsapp:" + Beto })
        {
            var reply = await fixture.TextAsync(from, text);

            Assert.Equal(Replies.Get("joinGroup", language, "Eastside"), reply);
            Assert.Equal(["Eastside:active"], await MembershipsAsync(from));
        }
    }

    [Fact]
    public async Task Join_alone_joins_the_default_group()
    {
        Assert.Equal(Replies.Get("join", "en"), await fixture.TextAsync(Ana, "JOIN"));
        Assert.Equal(["default:active"], await MembershipsAsync(Ana));
    }

    [Fact]
    public async Task A_subscriber_can_be_in_several_groups()
    {
        await fixture.TextAsync(Ana, "JOIN");
        await fixture.TextAsync(Ana, "EASTSIDE");
        await fixture.TextAsync(Ana, "NORTE");
        await fixture.TextAsync(Ana, "YES");

        Assert.Equal(["Eastside:active", "Northside:active", "default:active"], await MembershipsAsync(Ana));
    }

    [Theory]
    [InlineData("JOIN NOWHERE", "en")]
    [InlineData("únete al grupo del parque", "es")]
    [InlineData("ANTRE LAKAY", "ht")]
    public async Task Joining_a_group_that_does_not_exist_says_so_and_how_to_join_the_default(string text, string language)
    {
        var reply = await fixture.TextAsync(Ana, text);

        Assert.Equal(Replies.Get("unknownGroup", language), reply);
        Assert.Empty(await MembershipsAsync(Ana));
    }

    [Fact]
    public async Task Double_opt_in_waits_for_yes_before_any_alert()
    {
        var prompt = await fixture.TextAsync(Ana, "JOIN NORTHSIDE");
        Assert.Equal(
            "Eastside Alerts: reply YES to confirm you want Northside alerts. Msg frequency varies. Msg & data rates may apply. " +
            "Reply HELP for help, STOP to cancel.", prompt);
        Assert.Equal(["Northside:pending"], await MembershipsAsync(Ana));
        Assert.Equal(0, await RecipientsOfAlertToAsync("Northside"));

        var confirmation = await fixture.TextAsync(Ana, "Yes!");

        Assert.Equal(
            "Eastside Alerts: confirmed, you are subscribed to Northside alerts. Msg frequency varies. Msg & data rates may apply. " +
            "Reply HELP for help, STOP to cancel.", confirmation);
        Assert.Equal(["Northside:active"], await MembershipsAsync(Ana));
        Assert.Equal(1, await RecipientsOfAlertToAsync("Northside"));
    }

    [Fact]
    public async Task Double_opt_in_works_in_the_subscribers_language()
    {
        Assert.Equal(Replies.Get("confirmGroup", "es", "Northside"), await fixture.TextAsync("whatsapp:" + Beto, "Únete norte"));

        Assert.Equal(Replies.Get("confirmed", "es", "Northside"), await fixture.TextAsync("whatsapp:" + Beto, "Sí"));
        Assert.Equal(["Northside:active"], await MembershipsAsync("whatsapp:" + Beto));
    }

    [Fact]
    public async Task Joining_a_double_opt_in_group_again_when_already_in_it_needs_no_new_yes()
    {
        await fixture.TextAsync(Ana, "NORTE");
        await fixture.TextAsync(Ana, "YES");

        Assert.Equal(Replies.Get("joinGroup", "en", "Northside"), await fixture.TextAsync(Ana, "JOIN NORTHSIDE"));
        Assert.Equal(["Northside:active"], await MembershipsAsync(Ana));
    }

    [Fact]
    public async Task Yes_with_nothing_pending_keeps_the_usual_opt_in()
    {
        Assert.Equal(Replies.Get("help", "en"), await fixture.TextAsync(Ana, "YES"));
        await fixture.TextAsync(Ana, "JOIN");
        await fixture.TextAsync(Ana, "STOP");

        Assert.Equal(Replies.Get("optIn", "en"), await fixture.TextAsync(Ana, "YES"));
        Assert.Equal(["default:active"], await MembershipsAsync(Ana));
    }

    [Fact]
    public async Task Stop_before_yes_drops_the_pending_membership()
    {
        await fixture.TextAsync(Ana, "JOIN NORTHSIDE");
        await fixture.TextAsync(Ana, "STOP");

        Assert.Equal(Replies.Get("optIn", "en"), await fixture.TextAsync(Ana, "YES"));
        Assert.Equal(["Northside:left"], await MembershipsAsync(Ana));
    }

    [Fact]
    public async Task Stop_with_a_group_leaves_only_that_group()
    {
        await fixture.TextAsync(Ana, "JOIN");
        await fixture.TextAsync(Ana, "JOIN EASTSIDE");

        var reply = await fixture.TextAsync(Ana, "STOP EASTSIDE");

        Assert.Equal(
            "Eastside Alerts: you left Eastside and will get no more of its alerts. Your other alerts continue; reply STOP to cancel all.", reply);
        Assert.Equal(["Eastside:left", "default:active"], await MembershipsAsync(Ana));
        Assert.False(await IsOptedOutAsync(Ana));
        Assert.Equal(0, await RecipientsOfAlertToAsync("Eastside"));
        Assert.Equal(1, await RecipientsOfAlertToAsync("default"));
    }

    [Fact]
    public async Task Stop_with_a_group_works_with_every_opt_out_word_and_the_groups_keywords()
    {
        await fixture.TextAsync("whatsapp:" + Beto, "UNETE ESTE");

        Assert.Equal(Replies.Get("leftGroup", "es", "Eastside"), await fixture.TextAsync("whatsapp:" + Beto, "alto: lado este"));
        Assert.Equal(["Eastside:left"], await MembershipsAsync("whatsapp:" + Beto));
    }

    [Fact]
    public async Task Plain_stop_leaves_every_group()
    {
        await fixture.TextAsync(Ana, "JOIN");
        await fixture.TextAsync(Ana, "JOIN EASTSIDE");

        Assert.Equal(Replies.Get("optOut", "en"), await fixture.TextAsync(Ana, "STOP"));
        Assert.True(await IsOptedOutAsync(Ana));
        Assert.Equal(0, await RecipientsOfAlertToAsync("Eastside"));
        Assert.Equal(0, await RecipientsOfAlertToAsync("default"));
    }

    [Fact]
    public async Task Stop_followed_by_words_that_name_no_group_is_not_an_opt_out()
    {
        await fixture.TextAsync(Ana, "JOIN");

        Assert.Equal(Replies.Get("unknown", "en"), await fixture.TextAsync(Ana, "stop by the church at 5"));
        Assert.False(await IsOptedOutAsync(Ana));
        Assert.Equal(["default:active"], await MembershipsAsync(Ana));
    }

    [Fact]
    public async Task A_group_keyword_after_stop_rejoins_that_group_and_lifts_the_opt_out()
    {
        await fixture.TextAsync(Ana, "EASTSIDE");
        await fixture.TextAsync(Ana, "STOP");

        Assert.Equal(Replies.Get("joinGroup", "en", "Eastside"), await fixture.TextAsync(Ana, "EASTSIDE"));
        Assert.False(await IsOptedOutAsync(Ana));
        Assert.Equal(1, await RecipientsOfAlertToAsync("Eastside"));
    }

    private AlertNet.Subscribers.Replies Replies => App.Services.GetRequiredService<AlertNet.Subscribers.Replies>();

    private async Task CreateGroupAsync(object group) =>
        Assert.Equal(HttpStatusCode.Created, (await _organizer.PostAsJsonAsync("/api/groups", group)).StatusCode);

    private async Task<List<string>> MembershipsAsync(string from)
    {
        var address = SubscriberAddress.TryParse(from, "US")!;
        await using var connection = await App.Db.OpenConnectionAsync();
        return (await connection.QueryAsync<string>(
            """
            SELECT g.name || ':' || m.status FROM memberships m
            JOIN groups g ON g.id = m.group_id JOIN subscribers s ON s.id = m.subscriber_id
            WHERE s.channel = @channel AND s.phone_index = @index ORDER BY g.name COLLATE "C"
            """,
            new { channel = address.Channel, index = App.Protector.BlindIndex(address.E164) })).ToList();
    }

    private async Task<bool> IsOptedOutAsync(string number)
    {
        await using var connection = await App.Db.OpenConnectionAsync();
        return await connection.ExecuteScalarAsync<bool>("SELECT EXISTS (SELECT 1 FROM opt_outs WHERE phone_index = @index)",
            new { index = App.Protector.BlindIndex(number) });
    }

    /// <summary>Sends an urgent alert to one group and returns how many recipients it fanned out to.</summary>
    private async Task<int> RecipientsOfAlertToAsync(string group)
    {
        var id = await AlertNetTestApp.TriggerAlertAsync(_organizer, new { type = "urgent", groups = new[] { group }, bodies = new { en = "Test" } });
        var alert = await Eventually.ValueAsync(() => AlertNetTestApp.GetAlertAsync(_organizer, id),
            a => a.GetProperty("state").GetString() is "sending" or "done", TimeSpan.FromSeconds(30), () => $"alert {id} to fan out");
        return alert.GetProperty("recipients").GetInt32();
    }
}

