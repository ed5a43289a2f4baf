using AlertNet.BrowserTests.Support;
using AlertNet.Infrastructure.Auth;
using AlertNet.Tests.Support;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace AlertNet.BrowserTests.Hotline;

/// <summary>The hotline inbox: a coordinator reviews a texted report; an organizer turns one into an alert.</summary>
[Collection(BrowserCollection.Name)]
public sealed class InboxTests(BrowserApp browser)
{
    [Fact]
    public async Task A_coordinator_sees_a_texted_report_masked_and_marks_it_verified_and_an_organizer_turns_it_into_an_alert()
    {
        var reporter = AlertNetTestApp.Numbers(1, first: 8301)[0];
        var text = $"Agents at the bus stop on Elm {Guid.NewGuid():N}"[..44];
        await browser.App.TextAsync(reporter, "REPORT " + text);

        var coordinator = await browser.NewPageAsync(width: 360, height: 740);
        await BrowserApp.SignInAsync(coordinator, await browser.CreateUserAsync(Roles.Coordinator, "coord"));
        await BrowserApp.NavLink(coordinator, "Hotline").ClickAsync();
        var card = coordinator.Locator("section.report").Filter(new() { HasText = text });
        await Expect(card).ToContainTextAsync("••• ••• 8301");
        await Expect(card).Not.ToContainTextAsync(reporter);
        await Expect(card).ToContainTextAsync("Not reviewed");
        // Coordinators review; only organizers write alerts.
        await Expect(card.GetByRole(AriaRole.Link, new() { Name = "Turn into alert" })).ToHaveCountAsync(0);
        await card.GetByRole(AriaRole.Button, new() { Name = "Mark verified" }).ClickAsync();
        await Expect(coordinator.GetByText("Marked verified.")).ToBeVisibleAsync();
        card = coordinator.Locator("section.report").Filter(new() { HasText = text });
        await Expect(card.Locator(".badge")).ToHaveTextAsync("Verified");
        await Expect(card.GetByRole(AriaRole.Button, new() { Name = "Mark false alarm" })).ToBeVisibleAsync();
        await BrowserApp.ScreenshotAsync(coordinator, "hotline-inbox-phone");

        var organizer = await browser.NewPageAsync();
        await BrowserApp.SignInAsync(organizer, await browser.CreateUserAsync(Roles.Organizer, "org"));
        await organizer.GotoAsync("/hotline");
        card = organizer.Locator("section.report").Filter(new() { HasText = text });
        await Expect(card).ToContainTextAsync("Reviewed by coord-");
        await card.GetByRole(AriaRole.Link, new() { Name = "Turn into alert" }).ClickAsync();
        await Expect(organizer.GetByRole(AriaRole.Heading, new() { Name = "New alert", Exact = true })).ToBeVisibleAsync();
        await Expect(organizer.GetByLabel("Text in English")).ToHaveValueAsync(text);
        Assert.DoesNotContain(text, organizer.Url, StringComparison.Ordinal);
        await Expect(organizer.Locator("#stats-en")).ToContainTextAsync("GSM-7");
        await BrowserApp.ScreenshotAsync(organizer, "hotline-turned-into-alert");

        // Verify → alert → correction → all clear, each follow-up from the alert's own page.
        await browser.App.JoinAllAsync(AlertNetTestApp.Numbers(2, first: 8310));
        browser.App.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<AlertNet.Alerts.AlertsOptions>>().Value.ApprovalThreshold = 0;
        await organizer.GetByLabel("Seen in person by a responder").CheckAsync();
        await organizer.GetByRole(AriaRole.Button, new() { Name = "Send alert" }).ClickAsync();
        await Expect(organizer.Locator("#verification")).ToContainTextAsync("Verification: Seen in person by a responder, recorded by org-");
        await Expect(organizer.GetByRole(AriaRole.Link, new() { Name = "From hotline report" })).ToBeVisibleAsync();
        var alertUrl = organizer.Url.Split('?')[0];
        var alertId = alertUrl[(alertUrl.LastIndexOf('/') + 1)..];
        await organizer.GotoAsync("/hotline");
        card = organizer.Locator("section.report").Filter(new() { HasText = text });
        await Expect(card.GetByRole(AriaRole.Link, new() { Name = $"Became alert #{alertId}" })).ToBeVisibleAsync();

        // Follow-ups are offered once the alert has gone out to someone.
        var api = await browser.App.ClientWithRoleAsync(Roles.Organizer);
        await Eventually.TrueAsync(async () => (await AlertNetTestApp.GetAlertAsync(api, long.Parse(alertId, System.Globalization.CultureInfo.InvariantCulture)))
            .GetProperty("state").GetString() == "done", TimeSpan.FromSeconds(60), "the alert to go out");
        foreach (var (button, body) in new[] { ("Send correction", "Correction: the stop on Oak, not Elm"), ("Send all clear", "All clear at the bus stop") })
        {
            await organizer.GotoAsync(alertUrl);
            await organizer.Locator("#follow-up-card").GetByLabel("Text in English").FillAsync(body);
            await organizer.GetByRole(AriaRole.Button, new() { Name = button }).ClickAsync();
            await Expect(organizer.Locator("#follow-up-of")).ToContainTextAsync($"Follows up alert #{alertId}");
        }

        await organizer.GotoAsync(alertUrl);
        await Expect(organizer.Locator("#follow-ups li")).ToHaveCountAsync(2);
        await BrowserApp.ScreenshotAsync(organizer, "alert-with-follow-ups");
    }
}
