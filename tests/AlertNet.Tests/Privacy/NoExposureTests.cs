using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using AlertNet.Infrastructure.Auth;
using AlertNet.Infrastructure.Twilio.Drill;
using AlertNet.Privacy;
using AlertNet.Subscribers;
using AlertNet.Tests.Support;
using Microsoft.AspNetCore.Routing;

namespace AlertNet.Tests.Privacy;

/// <summary>No API answer shows a phone number in clear: subscribers, hotline reporters and organizer phones appear
/// only masked (••• ••• 1234) or as counts. Every GET route under /api is called, found from the app's own routing
/// table, so a new route is covered (or fails here until it gets a value for its parameters).</summary>
public sealed class NoExposureTests : IAsyncLifetime
{
    private static readonly string[] Subscribers = AlertNetTestApp.Numbers(3, first: 7400);
    private static readonly string Reporter = AlertNetTestApp.Numbers(1, first: 7480)[0];
    private static readonly string OrganizerPhone = AlertNetTestApp.Numbers(1, first: 7490)[0];

    private AlertNetTestApp _app = null!;

    public async Task InitializeAsync() =>
        _app = await AlertNetTestApp.StartAsync(overrides: new Dictionary<string, string?> { ["Alerts:ApprovalThreshold"] = "4" });

    public async Task DisposeAsync() => await _app.DisposeAsync();

    [Fact]
    public async Task No_api_answer_contains_a_phone_number_in_clear()
    {
        using var maria = await _app.ClientAsAsync("maria", Roles.Organizer);
        using var jose = await _app.ClientAsAsync("jose", Roles.Organizer);
        using var admin = await _app.ClientAsAsync("ada", Roles.Admin);
        var answers = new List<(string Request, string Body)>();
        async Task KeepAsync(string request, Task<HttpResponseMessage> call)
        {
            using var response = await call;
            answers.Add((request, await response.Content.ReadAsStringAsync()));
        }

        await _app.JoinAllAsync(Subscribers);
        await _app.TextAsync("whatsapp:" + Subscribers[0], "JOIN");
        await _app.TextAsync(DrillMagicNumbers.InvalidNumber, "JOIN");
        await _app.TextAsync(Reporter, "REPORT agents at the school");
        await _app.Services.GetRequiredService<OrganizerPhones>().RegisterAsync(OrganizerPhone, "maria", "en", CancellationToken.None);
        var bodies = new { en = "Agents at the school", es = "Agentes en la escuela" };
        await KeepAsync("POST /api/alerts/preview", maria.PostAsJsonAsync("/api/alerts/preview", new { bodies }));
        await KeepAsync("POST /api/alerts/test-send", maria.PostAsJsonAsync("/api/alerts/test-send", new { bodies }));
        var sent = await AlertNetTestApp.TriggerAlertAsync(maria, new { type = "urgent", bodies = new { en = "Small" }, groups = new[] { "default" } });
        await AlertNetTestApp.WaitUntilSettledAsync(maria, sent, expectedRecipients: 4);
        // Six people now, above the threshold of 4: this one waits for a second organizer.
        await _app.JoinAllAsync(AlertNetTestApp.Numbers(2, first: 7410));
        using var created = await maria.PostAsJsonAsync("/api/alerts", new { type = "urgent", bodies });
        var createdBody = await created.Content.ReadAsStringAsync();
        answers.Add(("POST /api/alerts", createdBody));
        var held = System.Text.Json.JsonDocument.Parse(createdBody).RootElement.GetProperty("id").GetInt64();
        await KeepAsync("POST approve", jose.PostAsync($"/api/alerts/{held}/approve", null));
        await AlertNetTestApp.WaitUntilSettledAsync(maria, held, expectedRecipients: 6);
        await KeepAsync("POST review", admin.PostAsJsonAsync("/api/hotline/1/review", new { status = "verified" }));

        var routes = _app.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .Where(e => e.RoutePattern.RawText is { } raw && raw.StartsWith("/api/", StringComparison.Ordinal)
                && e.Metadata.GetMetadata<Microsoft.AspNetCore.Routing.HttpMethodMetadata>()?.HttpMethods.Contains("GET") == true)
            .Select(e => e.RoutePattern.RawText!)
            .Distinct()
            .ToList();
        Assert.Contains("/api/alerts/{id:long}/dashboard", routes);
        foreach (var route in routes)
        {
            var path = route.Replace("{id:long}", held.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal);
            Assert.False(path.Contains('{', StringComparison.Ordinal), $"{route}: give this test a value for the route's parameters");
            using var response = await admin.GetAsync(path);
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"GET {path} answered {(int)response.StatusCode}");
            answers.Add(($"GET {path}", await response.Content.ReadAsStringAsync()));
        }

        Assert.Contains(answers, a => a.Body.Contains(PersonalDataProtector.Mask(Reporter), StringComparison.Ordinal));
        foreach (var number in Subscribers.Append(Reporter).Append(OrganizerPhone).Append(DrillMagicNumbers.InvalidNumber))
        {
            var national = number[2..];
            foreach (var (request, body) in answers)
            {
                foreach (var form in new[] { national, national[3..], $"{national[..3]}-{national[3..6]}-{national[6..]}", $"{national[3..6]}-{national[6..]}" })
                {
                    Assert.False(body.Contains(form, StringComparison.Ordinal), $"{request} shows {form}: {body}");
                }
            }
        }
    }

    [Theory]
    [InlineData("+12025550147", "••• ••• 0147")]
    [InlineData("whatsapp:+12025550147", "••• ••• 0147")]
    [InlineData("+442071838750", "••• ••• 8750")]
    [InlineData("1234", "•••")]
    [InlineData("", "•••")]
    public void A_masked_number_shows_at_most_its_last_four_digits(string number, string masked) =>
        Assert.Equal(masked, PersonalDataProtector.Mask(number));
}
