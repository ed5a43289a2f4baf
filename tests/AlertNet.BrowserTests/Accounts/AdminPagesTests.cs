using System.Text.RegularExpressions;
using AlertNet.BrowserTests.Support;
using AlertNet.Infrastructure.Auth;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace AlertNet.BrowserTests.Accounts;

[Collection(BrowserCollection.Name)]
public sealed class AdminPagesTests(BrowserApp browser)
{
    [Fact]
    public async Task An_organizer_gets_a_not_allowed_page_for_admin_pages_and_sees_no_admin_links()
    {
        var page = await browser.NewPageAsync();
        await BrowserApp.SignInAsync(page, await browser.CreateUserAsync(Roles.Organizer));
        await Expect(BrowserApp.NavLink(page, "My account")).ToBeVisibleAsync();
        await Expect(BrowserApp.NavLink(page, "Users")).ToHaveCountAsync(0);

        foreach (var path in new[] { "/admin/users", "/admin/tokens" })
        {
            var response = await page.GotoAsync(path);
            Assert.Equal(403, response!.Status);
            await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Not allowed" })).ToBeVisibleAsync();
        }

        await BrowserApp.ScreenshotAsync(page, "organizer-admin-403");
    }

    [Fact]
    public async Task The_jobs_dashboard_opens_for_an_admin_only()
    {
        var anonymous = await browser.NewPageAsync();
        await anonymous.GotoAsync("/jobs");
        await Expect(anonymous).ToHaveURLAsync(new Regex("/login\\?ReturnUrl=%2Fjobs"));

        var organizer = await browser.NewPageAsync();
        await BrowserApp.SignInAsync(organizer, await browser.CreateUserAsync(Roles.Organizer));
        await Expect(BrowserApp.NavLink(organizer, "Jobs")).ToHaveCountAsync(0);
        Assert.Equal(403, (await organizer.GotoAsync("/jobs"))!.Status);

        var admin = await browser.NewPageAsync();
        await BrowserApp.SignInAsync(admin, await browser.CreateUserAsync(Roles.Admin));
        // The dashboard's live graph polls with POSTs that carry the form token: they must get through.
        var stats = admin.WaitForResponseAsync(r => r.Url.EndsWith("/jobs/stats", StringComparison.Ordinal));
        await BrowserApp.NavLink(admin, "Jobs").ClickAsync();
        Assert.Equal(200, (await stats).Status);
        await Expect(admin).ToHaveTitleAsync(new Regex("AlertNet jobs"));
        await BrowserApp.ScreenshotAsync(admin, "jobs-dashboard-admin");
        await Expect(admin.GetByRole(AriaRole.Link, new() { Name = "Servers" })).ToBeVisibleAsync();
    }

    [Fact]
    public async Task An_admin_creates_a_user_whose_one_time_password_signs_in()
    {
        var admin = await browser.NewPageAsync();
        await BrowserApp.SignInAsync(admin, await browser.CreateUserAsync(Roles.Admin));
        await BrowserApp.NavLink(admin, "Users").ClickAsync();
        var name = "new-" + Guid.NewGuid().ToString("N")[..8];

        await admin.GetByLabel("Login name").FillAsync(name);
        await admin.GetByLabel("Role", new() { Exact = true }).SelectOptionAsync("organizer");
        await admin.GetByRole(AriaRole.Button, new() { Name = "Create user" }).ClickAsync();
        var password = await admin.Locator("#shown-once-password").InnerTextAsync();
        await BrowserApp.ScreenshotAsync(admin, "admin-users-created");
        await admin.GotoAsync("/admin/users");
        await Expect(admin.Locator("#shown-once-password")).ToHaveCountAsync(0);

        var user = await browser.NewPageAsync();
        await BrowserApp.SignInAsync(user, name, password);
        await Expect(user.GetByText($"Signed in as {name} (organizer)")).ToBeVisibleAsync();

        await admin.GetByRole(AriaRole.Button, new() { Name = $"Disable {name}" }).ClickAsync();
        await Expect(admin.GetByRole(AriaRole.Status)).ToHaveTextAsync($"{name} is disabled and signed out.");
        await user.ReloadAsync();
        await Expect(user).ToHaveURLAsync(new Regex("/login"));
    }
}
