using AlertNet.BrowserTests.Support;
using AlertNet.Infrastructure.Auth;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace AlertNet.BrowserTests.Web;

[Collection(BrowserCollection.Name)]
public sealed class LayoutTests(BrowserApp browser)
{
    [Fact]
    public async Task The_interface_switches_to_Spanish_and_stays_Spanish()
    {
        var name = await browser.CreateUserAsync(Roles.Admin);
        var page = await browser.NewPageAsync();
        await page.GotoAsync("/login");

        await page.GetByRole(AriaRole.Button, new() { Name = "Español" }).ClickAsync();

        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Iniciar sesión" })).ToBeVisibleAsync();
        await Expect(page.Locator("html")).ToHaveAttributeAsync("lang", "es");
        await Expect(page.GetByText("MODO SIMULACRO")).ToBeVisibleAsync();
        await page.GetByLabel("Nombre de usuario").FillAsync(name);
        await page.GetByLabel("Contraseña").FillAsync(BrowserApp.Password);
        await page.GetByRole(AriaRole.Button, new() { Name = "Entrar" }).ClickAsync();
        await Expect(page.GetByText($"Sesión iniciada como {name} (administrador).")).ToBeVisibleAsync();
        await BrowserApp.NavLink(page, "Usuarios").ClickAsync();
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Nuevo usuario" })).ToBeVisibleAsync();
        await BrowserApp.ScreenshotAsync(page, "users-spanish");
    }

    [Fact]
    public async Task Spanish_is_chosen_from_the_browser_language_when_no_choice_was_made()
    {
        var page = await browser.NewPageAsync(locale: "es-MX");
        await page.GotoAsync("/login");
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Iniciar sesión" })).ToBeVisibleAsync();
    }

    [Fact]
    public async Task Login_and_home_pages_fit_a_360_pixel_screen_without_sideways_scrolling()
    {
        var page = await browser.NewPageAsync(width: 360, height: 740);
        await page.GotoAsync("/login");
        await AssertNoHorizontalScrollAsync(page);
        await BrowserApp.ScreenshotAsync(page, "login-360");

        await BrowserApp.SignInAsync(page, await browser.CreateUserAsync(Roles.Admin, "a-rather-long-name"));
        await Expect(page.GetByText("Signed in as")).ToBeVisibleAsync();
        await AssertNoHorizontalScrollAsync(page);
        await BrowserApp.ScreenshotAsync(page, "home-360");

        await page.GotoAsync("/admin/users");
        await AssertNoHorizontalScrollAsync(page);
        await BrowserApp.ScreenshotAsync(page, "users-360");
    }

    [Fact]
    public async Task Every_form_control_has_a_label()
    {
        var page = await browser.NewPageAsync();
        await BrowserApp.SignInAsync(page, await browser.CreateUserAsync(Roles.Admin));
        foreach (var path in new[] { "/login", "/", "/account", "/account/two-factor", "/admin/users", "/admin/tokens" })
        {
            await page.GotoAsync(path);
            var unlabelled = await page.EvaluateAsync<string[]>(
                """
                [...document.querySelectorAll('input:not([type=hidden]), select, textarea')]
                    .filter(e => !(e.labels && e.labels.length) && !e.getAttribute('aria-label'))
                    .map(e => e.name || e.id)
                """);
            Assert.True(unlabelled.Length == 0, $"{path}: controls without a label: {string.Join(", ", unlabelled)}");
        }
    }

    private static async Task AssertNoHorizontalScrollAsync(IPage page)
    {
        var (scroll, client) = (await page.EvaluateAsync<int>("document.documentElement.scrollWidth"),
            await page.EvaluateAsync<int>("document.documentElement.clientWidth"));
        Assert.True(scroll <= client, $"{page.Url}: the page is {scroll} px wide on a {client} px screen.");
    }
}
