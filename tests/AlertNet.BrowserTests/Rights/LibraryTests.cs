using System.Net.Http.Json;
using System.Text.Json;
using AlertNet.Alerts;
using AlertNet.BrowserTests.Support;
using AlertNet.Infrastructure.Auth;
using AlertNet.Tests.Support;
using Microsoft.Extensions.Options;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace AlertNet.BrowserTests.Rights;

/// <summary>The know-your-rights library: an organizer writes a message with the live segment count, schedules it
/// as a campaign and sends it now; a coordinator reads it.</summary>
[Collection(BrowserCollection.Name)]
public sealed class LibraryTests(BrowserApp browser)
{
    [Fact]
    public async Task An_organizer_writes_a_rights_message_with_its_segment_cost_schedules_it_and_sends_it_now_and_a_coordinator_reads_it()
    {
        browser.App.Services.GetRequiredService<IOptions<AlertsOptions>>().Value.ApprovalThreshold = 0;
        await browser.App.JoinAllAsync(AlertNetTestApp.Numbers(1, first: 8501));
        var title = "Rights at the door " + Guid.NewGuid().ToString("N")[..6];

        var page = await browser.NewPageAsync(width: 360, height: 740);
        await BrowserApp.SignInAsync(page, await browser.CreateUserAsync(Roles.Organizer, "org"));
        await BrowserApp.NavLink(page, "Know your rights").ClickAsync();
        await page.GetByRole(AriaRole.Link, new() { Name = "New message" }).ClickAsync();
        await page.GetByLabel("Title (only staff see it)").FillAsync(title);
        await page.GetByLabel("Text in English").FillAsync("You do not have to open the door without a warrant signed by a judge.");
        await page.GetByLabel("Text in Español").FillAsync("No tiene que abrir la puerta sin una orden firmada por un juez. Guarde silencio.");
        await page.GetByLabel("Text in Español").FillAsync("No abra la puerta sin una orden judicial. Tiene derecho a guardar silencio: ¡úselo!");
        await Expect(page.Locator("#stats-es")).ToContainTextAsync("UCS-2");
        await Expect(page.Locator("#stats-en")).ToContainTextAsync("GSM-7, 1 SMS segment");
        await BrowserApp.ScreenshotAsync(page, "rights-editor-phone");

        await page.GetByLabel("When (cron)").FillAsync("0 18 * * 1");
        await page.GetByRole(AriaRole.Button, new() { Name = "Save and schedule" }).ClickAsync();
        await Expect(page.GetByText("Saved and scheduled as a recurring campaign.")).ToBeVisibleAsync();
        using var watcher = await browser.App.ClientWithRoleAsync(Roles.Coordinator);
        var campaigns = await watcher.GetFromJsonAsync<JsonElement>("/api/campaigns");
        Assert.Contains(campaigns.EnumerateArray(), c => c.GetProperty("name").GetString() == $"{title} (0 18 * * 1)");

        var card = page.Locator("section.rights").Filter(new() { HasText = title });
        await card.GetByRole(AriaRole.Link, new() { Name = "Edit: " + title }).ClickAsync();
        await Expect(page.GetByLabel("Text in English")).ToHaveValueAsync("You do not have to open the door without a warrant signed by a judge.");
        await page.GetByRole(AriaRole.Button, new() { Name = "Save and send now" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Heading, new() { NameRegex = new("Know your rights") }).First).ToBeVisibleAsync();
        await Expect(page.GetByText("is on its way.")).ToBeVisibleAsync();
        var id = long.Parse(System.Text.RegularExpressions.Regex.Match(page.Url, @"/alerts/(\d+)\?done=sent$").Groups[1].Value,
            System.Globalization.CultureInfo.InvariantCulture);
        var alert = await AlertNetTestApp.GetAlertAsync(watcher, id);
        Assert.Equal("know_your_rights", alert.GetProperty("type").GetString());
        Assert.EndsWith("¡úselo!", alert.GetProperty("bodies").GetProperty("es").GetString(), StringComparison.Ordinal);

        var coordinator = await browser.NewPageAsync();
        await BrowserApp.SignInAsync(coordinator, await browser.CreateUserAsync(Roles.Coordinator, "coord"));
        await BrowserApp.NavLink(coordinator, "Know your rights").ClickAsync();
        card = coordinator.Locator("section.rights").Filter(new() { HasText = title });
        await Expect(card).ToContainTextAsync("No abra la puerta");
        await Expect(coordinator.GetByRole(AriaRole.Link, new() { Name = "New message" })).ToHaveCountAsync(0);
        await Expect(card.GetByRole(AriaRole.Link)).ToHaveCountAsync(0);
        await BrowserApp.ScreenshotAsync(coordinator, "rights-library");
        Assert.Equal(403, (await coordinator.GotoAsync("/rights?edit=new"))!.Status);
    }
}
