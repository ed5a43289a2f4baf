using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using AlertNet.Infrastructure.Auth;
using AlertNet.Subscribers;
using AlertNet.Tests.Support;
using Dapper;

namespace AlertNet.Tests.Alerts;

/// <summary>The composer's test send: one message to the organizer's own registered phone, never to subscribers.</summary>
public sealed class TestSendTests : IAsyncLifetime
{
    private static readonly string MariasPhone = AlertNetTestApp.Numbers(1, first: 7290)[0];
    private static readonly string[] Subscribers = AlertNetTestApp.Numbers(3, first: 7200);

    private AlertNetTestApp _app = null!;
    private HttpClient _maria = null!;

    public async Task InitializeAsync()
    {
        _app = await AlertNetTestApp.StartAsync();
        _maria = await _app.ClientAsAsync("maria", Roles.Organizer);
        await _app.JoinAllAsync(Subscribers);
        await _app.Services.GetRequiredService<OrganizerPhones>().RegisterAsync(MariasPhone, "maria", "es", CancellationToken.None);
    }

    public async Task DisposeAsync()
    {
        _maria.Dispose();
        await _app.DisposeAsync();
    }

    [Fact]
    public async Task A_test_send_reaches_only_the_organizers_own_phone_in_the_phones_language()
    {
        var response = await _maria.PostAsJsonAsync("/api/alerts/test-send",
            new { bodies = new { en = "Agents at 5th and Main", es = "Agentes en la 5ª y Main" } });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var sent = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("••• ••• 7290", sent.GetProperty("to").GetString());
        Assert.Equal("es", sent.GetProperty("language").GetString());
        Assert.Equal("UCS-2", sent.GetProperty("encoding").GetString());
        var message = Assert.Single(_app.Carrier.SentExceptReplies());
        Assert.Equal(MariasPhone, message.To);
        Assert.Equal("Agentes en la 5ª y Main", message.Body);
        Assert.Equal(message.Sid, sent.GetProperty("sid").GetString());
        Assert.All(Subscribers, number => Assert.Equal(0, _app.Carrier.ReceivedBy(number).Count(m => !CarrierViews.IsReply(m))));
        await using var connection = await _app.Db.OpenConnectionAsync();
        Assert.Equal(0, await connection.ExecuteScalarAsync<int>("SELECT count(*) FROM alerts"));
        Assert.Equal("maria", await connection.ExecuteScalarAsync<string>("SELECT actor FROM audit_log WHERE action = 'alert.test-send'"));
    }

    [Fact]
    public async Task The_organizer_can_pick_which_language_to_test()
    {
        var response = await _maria.PostAsJsonAsync("/api/alerts/test-send",
            new { bodies = new { en = "Agents at 5th and Main", es = "Agentes en la 5 y Main" }, language = "en" });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("Agents at 5th and Main", Assert.Single(_app.Carrier.SentExceptReplies()).Body);
    }

    [Fact]
    public async Task Without_a_registered_phone_the_answer_says_how_to_register_one()
    {
        using var jose = await _app.ClientAsAsync("jose", Roles.Organizer);

        var response = await jose.PostAsJsonAsync("/api/alerts/test-send", new { bodies = new { en = "Agents at 5th and Main" } });

        Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
        var problem = await response.Content.ReadAsStringAsync();
        Assert.Contains("No phone is registered for jose", problem, StringComparison.Ordinal);
        Assert.Contains("register-organizer-phone --phone +1... --name jose", problem, StringComparison.Ordinal);
        Assert.Empty(_app.Carrier.SentExceptReplies());
    }

    [Fact]
    public async Task A_test_send_without_a_text_is_refused_with_the_reason()
    {
        var response = await _maria.PostAsJsonAsync("/api/alerts/test-send", new { bodies = new { } });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("bodies needs at least one language", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }
}
