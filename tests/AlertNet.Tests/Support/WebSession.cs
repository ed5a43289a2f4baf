using System.Net;
using System.Text.RegularExpressions;
using AlertNet.Accounts;
using AlertNet.Infrastructure.Auth;

namespace AlertNet.Tests.Support;

/// <summary>A browser-like HTTP client signed in to the web app through the real login form: it keeps the session
/// cookie, follows no redirects, and knows the page's form token (what pages send with every POST).</summary>
public sealed partial class WebSession : IDisposable
{
    public const string Password = "web session password";

    private WebSession(HttpClient client, CookieContainer cookies, string name)
    {
        Client = client;
        Cookies = cookies;
        Name = name;
    }

    public HttpClient Client { get; }

    public CookieContainer Cookies { get; }

    public string Name { get; }

    public string FormToken { get; private set; } = "";

    /// <summary>Creates an account with the role and signs it in.</summary>
    public static async Task<WebSession> SignInAsync(AlertNetTestApp app, string role)
    {
        var name = $"{role}-{Guid.NewGuid():N}"[..20];
        Assert.NotNull(await app.Services.GetRequiredService<UserAccounts>().CreateAsync(name, role, Password, CancellationToken.None));
        return await SignInAsync(app, name, Password);
    }

    public static async Task<WebSession> SignInAsync(AlertNetTestApp app, string name, string password)
    {
        var session = Anonymous(app, name);
        var response = await session.PostFormAsync("/login", new() { ["name"] = name, ["password"] = password }, "/login");
        Assert.True(response.StatusCode == HttpStatusCode.Redirect, $"sign-in as {name} failed: {(int)response.StatusCode}");
        await session.RefreshFormTokenAsync("/");
        return session;
    }

    public static WebSession Anonymous(AlertNetTestApp app, string name = "anonymous")
    {
        var cookies = new CookieContainer();
        var client = new HttpClient(new HttpClientHandler { CookieContainer = cookies, AllowAutoRedirect = false })
        {
            BaseAddress = new Uri(app.BaseUrl),
        };
        return new WebSession(client, cookies, name);
    }

    /// <summary>Reads the form token from a page, as a browser would get it.</summary>
    public async Task RefreshFormTokenAsync(string page)
    {
        var html = await Client.GetStringAsync(page);
        FormToken = MetaToken().Match(html) is { Success: true } match
            ? WebUtility.HtmlDecode(match.Groups[1].Value)
            : throw new InvalidOperationException($"No form token on {page}.");
    }

    /// <summary>Posts a form with the form token, as a page's form does (reads a fresh token from tokenPage first when given).</summary>
    public async Task<HttpResponseMessage> PostFormAsync(string path, Dictionary<string, string> fields, string? tokenPage = null)
    {
        if (tokenPage is not null)
        {
            await RefreshFormTokenAsync(tokenPage);
        }

        fields["__RequestVerificationToken"] = FormToken;
        return await Client.PostAsync(path, new FormUrlEncodedContent(fields));
    }

    /// <summary>The header fetch() from a page adds (Web/static/site.js).</summary>
    public HttpRequestMessage WithFormToken(HttpRequestMessage request)
    {
        request.Headers.Add(CookieAntiforgery.HeaderName, FormToken);
        return request;
    }

    public void Dispose() => Client.Dispose();

    [GeneratedRegex("""<meta name="request-verification-token" content="([^"]+)">""")]
    private static partial Regex MetaToken();
}
