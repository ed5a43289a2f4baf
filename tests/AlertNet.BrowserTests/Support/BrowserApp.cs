using AlertNet.Accounts;
using AlertNet.Tests.Support;
using Microsoft.Playwright;

namespace AlertNet.BrowserTests.Support;

/// <summary>One AlertNet host (real Kestrel on 127.0.0.1, its own database, drill mode) and one headless Debian
/// Chromium, shared by the browser tests; each test opens its own browser context (its own cookies).</summary>
public sealed class BrowserApp : IAsyncLifetime
{
    public const string Password = "correct horse battery";

    private static readonly string[] ChromiumArgs =
    [
        "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
    ];

    private IPlaywright _playwright = null!;

    public AlertNetTestApp App { get; private set; } = null!;

    public IBrowser Browser { get; private set; } = null!;

    public static string ScreenshotFolder { get; } = Path.Combine(TestCluster.RepoRoot, ".local", "test-results", "screenshots");

    public async Task InitializeAsync()
    {
        var chromium = Environment.GetEnvironmentVariable("ALERTNET_CHROMIUM") is { Length: > 0 } configured ? configured : "/usr/bin/chromium";
        if (!File.Exists(chromium))
        {
            throw new InvalidOperationException($"No Chromium at {chromium}: run `bash infra/chromium.sh` (installs Debian's chromium) or set ALERTNET_CHROMIUM.");
        }

        App = await AlertNetTestApp.StartAsync();
        _playwright = await Playwright.CreateAsync();
        Browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = chromium,
            Headless = true,
            Args = ChromiumArgs,
        });
        Directory.CreateDirectory(ScreenshotFolder);
    }

    public async Task DisposeAsync()
    {
        await Browser.DisposeAsync();
        _playwright.Dispose();
        await App.DisposeAsync();
    }

    /// <summary>A new account with a unique name (tests share one database).</summary>
    public async Task<string> CreateUserAsync(string role, string prefix = "user")
    {
        var name = $"{prefix}-{Guid.NewGuid():N}"[..20];
        Assert.NotNull(await App.Services.GetRequiredService<UserAccounts>().CreateAsync(name, role, Password, CancellationToken.None));
        return name;
    }

    /// <summary>A fresh browser (no cookies) on the app, English unless told.</summary>
    public async Task<IPage> NewPageAsync(int width = 1024, int height = 768, string locale = "en-US")
    {
        var context = await Browser.NewContextAsync(new BrowserNewContextOptions
        {
            BaseURL = App.BaseUrl,
            ViewportSize = new ViewportSize { Width = width, Height = height },
            Locale = locale,
        });
        context.SetDefaultTimeout(15_000);
        return await context.NewPageAsync();
    }

    public static async Task SignInAsync(IPage page, string name, string password = Password)
    {
        await page.GotoAsync("/login");
        await page.GetByLabel("Login name").FillAsync(name);
        await page.GetByLabel("Password").FillAsync(password);
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
    }

    /// <summary>A link of the layout's navigation (the home page lists the same links).</summary>
    public static ILocator NavLink(IPage page, string name) =>
        page.GetByRole(AriaRole.Navigation).GetByRole(AriaRole.Link, new() { Name = name, Exact = true });

    public static Task ScreenshotAsync(IPage page, string name) =>
        page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(ScreenshotFolder, name + ".png"), FullPage = true });
}

[CollectionDefinition(Name)]
public sealed class BrowserCollection : ICollectionFixture<BrowserApp>
{
    public const string Name = "browser";
}
