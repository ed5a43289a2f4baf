using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using AlertNet.Alerts;
using AlertNet.BrowserTests.Support;
using AlertNet.Infrastructure.Auth;
using AlertNet.Subscribers;
using AlertNet.Tests.Support;
using Microsoft.Extensions.Options;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace AlertNet.BrowserTests.Dashboard;

/// <summary>Composer → a second organizer's approval → the alert page following delivery live; cancelling from the page.</summary>
[Collection(BrowserCollection.Name)]
public sealed class AlertPagesTests
{
    private readonly BrowserApp _browser;

    public AlertPagesTests(BrowserApp browser)
    {
        _browser = browser;
        // The shared host runs with the default threshold (1000); these tests need a large send to be a few people.
        // The options object is a singleton, read on every Send.
        browser.App.Services.GetRequiredService<IOptions<AlertsOptions>>().Value.ApprovalThreshold = 2;
    }

    [Fact]
    public async Task A_large_send_composed_here_is_approved_by_a_second_organizer_and_its_page_reaches_100_percent_without_reload()
    {
        await _browser.App.JoinAllAsync(AlertNetTestApp.Numbers(3, first: 8100));
        var maria = await _browser.CreateUserAsync(Roles.Organizer, "maria");
        var jose = await _browser.CreateUserAsync(Roles.Organizer, "jose");
        var phone = AlertNetTestApp.Numbers(1, first: 8190)[0];
        await _browser.App.Services.GetRequiredService<OrganizerPhones>().RegisterAsync(phone, maria, "en", CancellationToken.None);

        var composer = await _browser.NewPageAsync();
        await BrowserApp.SignInAsync(composer, maria);
        await BrowserApp.NavLink(composer, "New alert").ClickAsync();
        await Expect(composer.GetByRole(AriaRole.Heading, new() { Name = "New alert", Exact = true })).ToBeVisibleAsync();
        await composer.GetByLabel("Text in English").FillAsync("Agents at 5th and Main. Stay inside.");
        await composer.GetByLabel("Text in Español").FillAsync("Agentes en la calle Ámbar. Quédense adentro.");
        await Expect(composer.Locator("#stats-es")).ToContainTextAsync("UCS-2");
        await Expect(composer.Locator("#preview")).ToContainTextAsync("people will get it");
        await composer.GetByRole(AriaRole.Button, new() { Name = "Send me a test" }).ClickAsync();
        await Expect(composer.Locator("#test-result")).ToContainTextAsync("Test sent to ••• ••• 8190");
        Assert.Equal(1, _browser.App.Carrier.TestSendCountTo(phone));
        await BrowserApp.ScreenshotAsync(composer, "compose");

        await composer.GetByRole(AriaRole.Button, new() { Name = "Send alert" }).ClickAsync();

        await Expect(composer.GetByText("so it is not sent yet: another organizer must approve it")).ToBeVisibleAsync();
        await Expect(composer.GetByText("You wrote this alert")).ToBeVisibleAsync();
        await Expect(composer.GetByRole(AriaRole.Button, new() { Name = "Approve and send" })).ToHaveCountAsync(0);
        var alertUrl = composer.Url;
        // A page that reloads loses this marker.
        await composer.EvaluateAsync("window.stillTheSamePage = true");
        await BrowserApp.ScreenshotAsync(composer, "alert-awaiting-approval");

        var approver = await _browser.NewPageAsync();
        await BrowserApp.SignInAsync(approver, jose);
        await BrowserApp.NavLink(approver, "Approvals").ClickAsync();
        await BrowserApp.ScreenshotAsync(approver, "approvals");
        await approver.GetByRole(AriaRole.Button, new() { Name = "Approve and send" }).First.ClickAsync();
        await Expect(approver.GetByText("Approved: the alert is on its way.")).ToBeVisibleAsync();

        await Expect(composer.Locator("#progress-text")).ToHaveTextAsync("100 %", new() { Timeout = 30_000 });
        await Expect(composer.Locator("#live-status")).ToHaveTextAsync("Finished: every message has its final state.");
        await Expect(composer.Locator("[data-count=delivered]")).ToHaveTextAsync("3");
        Assert.True(await composer.EvaluateAsync<bool>("window.stillTheSamePage === true"), "the alert page reloaded");
        Assert.Equal(alertUrl, composer.Url);
        Assert.True(await composer.Locator("#chart rect").CountAsync() > 0, "the throughput chart has no bars");
        await Expect(composer.Locator("#approval-card")).ToBeHiddenAsync();
        await BrowserApp.ScreenshotAsync(composer, "alert-delivered-live");
    }

    [Fact]
    public async Task An_organizer_cancels_a_scheduled_alert_from_its_page_after_confirming()
    {
        await _browser.App.JoinAllAsync(AlertNetTestApp.Numbers(1, first: 8200));
        // Sent at once, without approval: this one is about cancelling.
        _browser.App.Services.GetRequiredService<IOptions<AlertsOptions>>().Value.ApprovalThreshold = 0;
        var page = await _browser.NewPageAsync(width: 360, height: 740);
        await BrowserApp.SignInAsync(page, await _browser.CreateUserAsync(Roles.Organizer, "ana"));
        await page.GotoAsync("/alerts/new");
        await AssertNoHorizontalScrollAsync(page);
        await page.GetByLabel("Text in English").FillAsync("Know your rights meeting tonight");
        await page.GetByLabel("Know your rights").CheckAsync();
        await page.GetByLabel("Send later (optional)").FillAsync(DateTime.Now.AddHours(2).ToString("yyyy-MM-ddTHH:mm", System.Globalization.CultureInfo.InvariantCulture));
        await page.GetByRole(AriaRole.Button, new() { Name = "Send alert" }).ClickAsync();
        await Expect(page.GetByText("State: Queued")).ToBeVisibleAsync();
        await AssertNoHorizontalScrollAsync(page);
        await BrowserApp.ScreenshotAsync(page, "alert-scheduled-360");

        await page.GetByRole(AriaRole.Button, new() { Name = "Cancel alert…" }).ClickAsync();
        await Expect(page.GetByText("Stop this alert?")).ToBeVisibleAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Yes, stop sending" }).ClickAsync();

        await Expect(page.GetByText("Cancelled: nothing more will be sent.")).ToBeVisibleAsync();
        await Expect(page.GetByText("State: Cancelled")).ToBeVisibleAsync();
        await Expect(page.GetByRole(AriaRole.Button, new() { Name = "Cancel alert…" })).ToHaveCountAsync(0);
        await BrowserApp.ScreenshotAsync(page, "alert-cancelled-360");
    }

    [Fact]
    public async Task An_organizer_corrects_an_alert_from_the_composer_and_retracts_it_from_its_page()
    {
        var numbers = AlertNetTestApp.Numbers(2, first: 8300);
        await _browser.App.JoinAllAsync(numbers);
        _browser.App.Services.GetRequiredService<IOptions<AlertsOptions>>().Value.ApprovalThreshold = 0;
        var api = await _browser.App.ClientWithRoleAsync(Roles.Organizer);
        var original = await AlertNetTestApp.TriggerAlertAsync(api, new { type = "urgent", bodies = new { en = "Agents at the library" } });
        var sent = await Eventually.ValueAsync(() => AlertNetTestApp.GetAlertAsync(api, original),
            a => a.GetProperty("state").GetString() == "done", TimeSpan.FromSeconds(60), () => "the alert to go out");
        var reached = sent.GetProperty("recipients").GetInt32();

        var page = await _browser.NewPageAsync();
        await BrowserApp.SignInAsync(page, await _browser.CreateUserAsync(Roles.Organizer, "rosa"));
        await page.GotoAsync("/alerts/new");
        await page.GetByLabel("Correction").CheckAsync();
        // The groups give way to the choice of the alert being corrected, and the count follows that alert.
        await Expect(page.Locator("#groups-choice")).ToBeHiddenAsync();
        await page.Locator("#original").SelectOptionAsync(original.ToString(System.Globalization.CultureInfo.InvariantCulture));
        await page.GetByLabel("Text in English").FillAsync("Correction: agents at the post office, not the library");
        await Expect(page.Locator("#preview")).ToContainTextAsync($"{reached.ToString("N0", System.Globalization.CultureInfo.GetCultureInfo("en-US"))} people will get it");
        await page.GetByRole(AriaRole.Button, new() { Name = "Send alert" }).ClickAsync();

        await Expect(page.Locator("#follow-up-of")).ToContainTextAsync($"Follows up alert #{original}");
        await BrowserApp.ScreenshotAsync(page, "alert-correction");
        await page.Locator("#follow-up-of a").ClickAsync();
        await Expect(page.Locator("#follow-ups")).ToContainTextAsync("Correction");

        await page.Locator("#follow-up-card").GetByLabel("Text in English").FillAsync("RETRACTED: there were no agents at the library");
        await page.GetByRole(AriaRole.Button, new() { Name = "Retract" }).ClickAsync();
        await Expect(page.Locator("#follow-up-of")).ToContainTextAsync($"Follows up alert #{original}");
        await Expect(page.GetByText("State: Handed to the carrier").Or(page.GetByText("State: Delivering"))).ToBeVisibleAsync();
        await BrowserApp.ScreenshotAsync(page, "alert-retraction");

        await Eventually.TrueAsync(() => numbers.All(n => _browser.App.Carrier.ReceivedBy(n).Count(m => m.Body!.StartsWith("RETRACTED", StringComparison.Ordinal)) == 1),
            TimeSpan.FromSeconds(60), "each person who got the alert to get the retraction once");
        Assert.All(numbers, n => Assert.Equal(1, _browser.App.Carrier.ReceivedBy(n).Count(m => m.Body!.StartsWith("Correction:", StringComparison.Ordinal))));
    }

    [Fact]
    public async Task The_home_page_overview_and_the_composer_speak_Spanish_and_label_every_control()
    {
        var page = await _browser.NewPageAsync();
        await BrowserApp.SignInAsync(page, await _browser.CreateUserAsync(Roles.Organizer, "lucia"));
        await page.GetByRole(AriaRole.Button, new() { Name = "Español" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Suscriptores" })).ToBeVisibleAsync();
        await BrowserApp.ScreenshotAsync(page, "overview-spanish");

        await page.GetByRole(AriaRole.Link, new() { Name = "Escribir una alerta" }).ClickAsync();

        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Nueva alerta", Exact = true })).ToBeVisibleAsync();
        await Expect(page.GetByLabel("Texto en Español")).ToBeVisibleAsync();
        var unlabelled = await page.EvaluateAsync<string[]>(
            """
            [...document.querySelectorAll('input:not([type=hidden]), select, textarea')]
                .filter(e => !(e.labels && e.labels.length) && !e.getAttribute('aria-label'))
                .map(e => e.name || e.id)
            """);
        Assert.True(unlabelled.Length == 0, $"controls without a label: {string.Join(", ", unlabelled)}");
        await BrowserApp.ScreenshotAsync(page, "compose-spanish");
    }

    [Fact]
    public async Task A_second_organizer_approves_a_recurring_campaign_on_the_approvals_page_only_as_last_read()
    {
        await _browser.App.JoinAllAsync(AlertNetTestApp.Numbers(3, first: 8300));
        var maria = await _browser.CreateUserAsync(Roles.Organizer, "maria");
        var jose = await _browser.CreateUserAsync(Roles.Organizer, "jose");
        var name = $"Rights {Guid.NewGuid():N}"[..14];
        using var mariaApi = await _browser.App.ClientAsAsync(maria, Roles.Organizer);
        var created = await mariaApi.PostAsJsonAsync("/api/campaigns",
            new { name, cron = "0 9 * * 1", timeZone = "America/Chicago", bodies = new { en = "You may stay silent." } });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var id = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetInt64();
        var card = (IPage page) => page.Locator("section.card", new() { Has = page.GetByRole(AriaRole.Heading, new() { Name = $"Campaign “{name}”" }) });

        var own = await _browser.NewPageAsync();
        await BrowserApp.SignInAsync(own, maria);
        await BrowserApp.NavLink(own, "Approvals").ClickAsync();
        await Expect(card(own)).ToContainTextAsync("another organizer must approve it");
        await Expect(card(own).GetByRole(AriaRole.Button, new() { Name = $"Approve campaign ({name})" })).ToHaveCountAsync(0);

        var approver = await _browser.NewPageAsync();
        await BrowserApp.SignInAsync(approver, jose);
        await Expect(approver.GetByRole(AriaRole.Link, new() { NameRegex = new Regex("^Waiting for approval: [1-9]") })).ToBeVisibleAsync();
        await BrowserApp.NavLink(approver, "Approvals").ClickAsync();
        await Expect(card(approver)).ToContainTextAsync("You may stay silent.");
        await Expect(card(approver)).ToContainTextAsync("0 9 * * 1 (America/Chicago)");
        await BrowserApp.ScreenshotAsync(approver, "approvals-campaign");

        // Maria changes the text while Jose's page shows the old one: his click must not approve what he never read.
        Assert.Equal(HttpStatusCode.OK, (await mariaApi.PutAsJsonAsync($"/api/campaigns/{id}",
            new { name, cron = "0 9 * * 1", timeZone = "America/Chicago", bodies = new { en = "Send us your bank details." } })).StatusCode);
        await card(approver).GetByRole(AriaRole.Button, new() { Name = $"Approve campaign ({name})" }).ClickAsync();

        await Expect(approver.GetByRole(AriaRole.Alert)).ToContainTextAsync("changed after you opened the page");
        await Expect(card(approver)).ToContainTextAsync("Send us your bank details.");
        Assert.Equal("awaiting_approval", await CampaignStateAsync(mariaApi, id));

        await card(approver).GetByRole(AriaRole.Button, new() { Name = $"Approve campaign ({name})" }).ClickAsync();

        await Expect(approver.GetByText("Approved: the campaign runs on its schedule.")).ToBeVisibleAsync();
        await Expect(card(approver)).ToHaveCountAsync(0);
        Assert.Equal("active", await CampaignStateAsync(mariaApi, id));
    }

    private static async Task<string?> CampaignStateAsync(HttpClient api, long id) =>
        (await api.GetFromJsonAsync<JsonElement>("/api/campaigns")).EnumerateArray()
        .Single(c => c.GetProperty("id").GetInt64() == id).GetProperty("state").GetString();

    private static async Task AssertNoHorizontalScrollAsync(IPage page)
    {
        var (scroll, client) = (await page.EvaluateAsync<int>("document.documentElement.scrollWidth"),
            await page.EvaluateAsync<int>("document.documentElement.clientWidth"));
        Assert.True(scroll <= client, $"{page.Url}: the page is {scroll} px wide on a {client} px screen.");
    }
}
