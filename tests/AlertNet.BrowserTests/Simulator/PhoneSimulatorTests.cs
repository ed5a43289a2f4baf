using AlertNet.Alerts;
using AlertNet.BrowserTests.Support;
using AlertNet.Infrastructure.Auth;
using AlertNet.Tests.Support;
using Microsoft.Extensions.Options;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace AlertNet.BrowserTests.Simulator;

/// <summary>The drill phone simulator: a coordinator texts JOIN as a subscriber and sees the reply, then the alert an
/// organizer sends arrives on the simulated phone without a reload.</summary>
[Collection(BrowserCollection.Name)]
public sealed class PhoneSimulatorTests(BrowserApp browser)
{
    [Fact]
    public async Task A_coordinator_joins_from_the_simulated_phone_and_sees_the_reply_and_then_an_organizers_alert_arrive()
    {
        // This test is about the simulated phone, not approval of large sends (the shared database has many subscribers).
        browser.App.Services.GetRequiredService<IOptions<AlertsOptions>>().Value.ApprovalThreshold = 0;
        var number = AlertNetTestApp.Numbers(1, first: 8401)[0];

        var page = await browser.NewPageAsync(width: 360, height: 740);
        await BrowserApp.SignInAsync(page, await browser.CreateUserAsync(Roles.Coordinator, "coord"));
        await BrowserApp.NavLink(page, "Phone simulator").ClickAsync();
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Phone simulator", Exact = true })).ToBeVisibleAsync();
        await page.GetByLabel("Phone number").FillAsync(number);
        await page.GetByRole(AriaRole.Button, new() { Name = "Use this number" }).ClickAsync();
        await Expect(page.Locator("#thread")).ToContainTextAsync("No messages yet");
        await page.GetByLabel("Text to AlertNet").FillAsync("JOIN");
        // Keyboard only: from the text to the button, then Enter.
        await page.Keyboard.PressAsync("Tab");
        await Expect(page.GetByRole(AriaRole.Button, new() { Name = "Send text" })).ToBeFocusedAsync();
        await page.Keyboard.PressAsync("Enter");

        await Expect(page.Locator("#thread li.sent")).ToContainTextAsync("JOIN");
        await Expect(page.Locator("#thread li.reply")).ToContainTextAsync("STOP");
        await page.EvaluateAsync("window.stillTheSamePage = true");

        using var organizer = await browser.App.ClientWithRoleAsync(Roles.Organizer);
        var alert = $"Drill alert {Guid.NewGuid():N}"[..24];
        await AlertNetTestApp.TriggerAlertAsync(organizer, new { type = "urgent", bodies = new { en = alert } });

        var received = page.Locator("#thread li.received").Filter(new() { HasText = alert });
        await Expect(received).ToBeVisibleAsync(new() { Timeout = 30_000 });
        await Expect(received).ToContainTextAsync("delivered", new() { Timeout = 30_000 });
        Assert.True(await page.EvaluateAsync<bool>("window.stillTheSamePage === true"), "the simulator page reloaded");
        await BrowserApp.ScreenshotAsync(page, "phone-simulator");
    }
}
