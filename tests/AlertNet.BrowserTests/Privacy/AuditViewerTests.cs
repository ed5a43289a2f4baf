using AlertNet.BrowserTests.Support;
using AlertNet.Infrastructure.Auth;
using AlertNet.Privacy;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace AlertNet.BrowserTests.Privacy;

/// <summary>The audit log viewer: admins only, newest first, filtered by who and by action, a page at a time.</summary>
[Collection(BrowserCollection.Name)]
public sealed class AuditViewerTests(BrowserApp browser)
{
    [Fact]
    public async Task An_admin_filters_the_audit_log_by_actor_and_action_and_pages_back_from_the_newest_entry()
    {
        var actor = "auditor-" + Guid.NewGuid().ToString("N")[..8];
        var audit = browser.App.Services.GetRequiredService<AuditLog>();
        for (var i = 1; i <= AuditViewerModel.PageSize + 5; i++)
        {
            await audit.RecordAsync(actor, i % 2 == 0 ? "group.create" : "alert.trigger", $"alert:{i}", new { n = i }, CancellationToken.None);
        }

        var coordinator = await browser.NewPageAsync();
        await BrowserApp.SignInAsync(coordinator, await browser.CreateUserAsync(Roles.Coordinator, "coord"));
        await Expect(BrowserApp.NavLink(coordinator, "Audit log")).ToHaveCountAsync(0);
        Assert.Equal(403, (await coordinator.GotoAsync("/admin/audit"))!.Status);

        var page = await browser.NewPageAsync(width: 360, height: 740);
        await BrowserApp.SignInAsync(page, await browser.CreateUserAsync(Roles.Admin, "admin"));
        await BrowserApp.NavLink(page, "Audit log").ClickAsync();
        await page.GetByLabel("Who").FillAsync(actor);
        await page.GetByRole(AriaRole.Button, new() { Name = "Filter" }).ClickAsync();

        var rows = page.Locator("#audit tbody tr");
        await Expect(rows).ToHaveCountAsync(AuditViewerModel.PageSize);
        // Newest first.
        await Expect(rows.First).ToContainTextAsync($"alert:{AuditViewerModel.PageSize + 5}");
        await page.GetByRole(AriaRole.Link, new() { Name = "Older entries" }).ClickAsync();
        await Expect(rows).ToHaveCountAsync(5);
        await Expect(rows.Last).ToContainTextAsync("alert:1");
        await Expect(rows.Last).ToContainTextAsync("{\"n\": 1}");
        await BrowserApp.ScreenshotAsync(page, "audit-older-page-phone");

        await page.GetByLabel("Action").FillAsync("group.create");
        await page.GetByRole(AriaRole.Button, new() { Name = "Filter" }).ClickAsync();
        await Expect(rows).ToHaveCountAsync((AuditViewerModel.PageSize + 5) / 2);
        foreach (var row in await rows.AllAsync())
        {
            await Expect(row).ToContainTextAsync("group.create");
            await Expect(row).ToContainTextAsync(actor);
        }
    }
}
