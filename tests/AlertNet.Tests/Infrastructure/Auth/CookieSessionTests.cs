using System.Net;
using System.Net.Http.Json;
using AlertNet.Accounts;
using AlertNet.Infrastructure.Auth;
using AlertNet.Tests.Support;
using Dapper;

namespace AlertNet.Tests.Infrastructure.Auth;

/// <summary>The session cookie beside Bearer tokens: what it opens, what it cannot be used for (CSRF), and how
/// it ends.</summary>
public sealed class CookieSessionTests : IAsyncLifetime
{
    private AlertNetTestApp _app = null!;

    public async Task InitializeAsync() => _app = await AlertNetTestApp.StartAsync();

    public async Task DisposeAsync() => await _app.DisposeAsync();

    [Fact]
    public async Task A_cookie_post_to_the_api_without_the_form_token_is_refused_and_changes_nothing()
    {
        using var organizer = await WebSession.SignInAsync(_app, Roles.Organizer);

        var forged = await organizer.Client.PostAsJsonAsync("/api/groups", new { name = "forged" });
        var withToken = await organizer.Client.SendAsync(organizer.WithFormToken(
            new HttpRequestMessage(HttpMethod.Post, "/api/groups") { Content = JsonContent.Create(new { name = "from-the-page" }) }));

        Assert.Equal(HttpStatusCode.BadRequest, forged.StatusCode);
        Assert.Contains("RequestVerificationToken", await forged.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Created, withToken.StatusCode);
        await using var connection = await _app.Db.OpenConnectionAsync();
        Assert.Equal(0, await connection.ExecuteScalarAsync<int>("SELECT count(*) FROM groups WHERE name = 'forged'"));
    }

    [Fact]
    public async Task A_form_token_of_another_session_does_not_count()
    {
        using var organizer = await WebSession.SignInAsync(_app, Roles.Organizer);
        using var other = await WebSession.SignInAsync(_app, Roles.Organizer);
        var request = new HttpRequestMessage(HttpMethod.Post, "/api/groups") { Content = JsonContent.Create(new { name = "stolen-token" }) };
        request.Headers.Add(CookieAntiforgery.HeaderName, other.FormToken);

        Assert.Equal(HttpStatusCode.BadRequest, (await organizer.Client.SendAsync(request)).StatusCode);
    }

    [Fact]
    public async Task Bearer_tokens_need_no_form_token_and_anonymous_api_calls_get_401_not_a_login_page()
    {
        using var organizer = await _app.ClientWithRoleAsync(Roles.Organizer);
        using var anonymous = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = new Uri(_app.BaseUrl) };

        Assert.Equal(HttpStatusCode.Created, (await organizer.PostAsJsonAsync("/api/groups", new { name = "by-token" })).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("/api/groups")).StatusCode);
        var page = await anonymous.GetAsync("/admin/users");
        Assert.Equal(HttpStatusCode.Redirect, page.StatusCode);
        Assert.StartsWith("/login?ReturnUrl=", page.Headers.Location!.PathAndQuery, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_session_cookie_is_http_only_and_same_site_strict()
    {
        var session = WebSession.Anonymous(_app);
        await session.RefreshFormTokenAsync("/login");
        var name = $"c-{Guid.NewGuid():N}"[..20];
        await _app.Services.GetRequiredService<UserAccounts>().CreateAsync(name, Roles.Coordinator, WebSession.Password, CancellationToken.None);
        var fields = new Dictionary<string, string> { ["name"] = name, ["password"] = WebSession.Password, ["__RequestVerificationToken"] = session.FormToken };

        var response = await session.Client.PostAsync("/login", new FormUrlEncodedContent(fields));

        var cookie = Assert.Single(response.Headers.GetValues("Set-Cookie"), c => c.StartsWith("AlertNet.Session=", StringComparison.Ordinal));
        Assert.Contains("httponly", cookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("samesite=strict", cookie, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("expires", cookie, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task With_an_https_public_address_every_cookie_is_secure()
    {
        await using var app = await AlertNetTestApp.StartAsync(overrides: new Dictionary<string, string?> { ["AlertNet:PublicBaseUrl"] = "https://alerts.example.org" });
        using var client = new HttpClient(new HttpClientHandler { UseCookies = false }) { BaseAddress = new Uri(app.Settings["urls"]!) };

        var response = await client.GetAsync("/login");

        var cookies = response.Headers.GetValues("Set-Cookie").ToList();
        Assert.NotEmpty(cookies);
        Assert.All(cookies, c => Assert.Contains("secure", c, StringComparison.OrdinalIgnoreCase));
    }

    [Fact]
    public async Task Disabling_an_account_or_changing_its_role_ends_its_sessions_at_once()
    {
        var accounts = _app.Services.GetRequiredService<UserAccounts>();
        using var disabled = await WebSession.SignInAsync(_app, Roles.Organizer);
        using var demoted = await WebSession.SignInAsync(_app, Roles.Organizer);
        Assert.Equal(HttpStatusCode.OK, (await disabled.Client.GetAsync("/")).StatusCode);

        var users = await accounts.ListAsync(CancellationToken.None);
        await accounts.DisableAsync(users.Single(u => u.Name == disabled.Name).Id, CancellationToken.None);
        await accounts.SetRoleAsync(users.Single(u => u.Name == demoted.Name).Id, Roles.Coordinator, CancellationToken.None);

        Assert.Equal(HttpStatusCode.Redirect, (await disabled.Client.GetAsync("/")).StatusCode);
        Assert.Equal(HttpStatusCode.Redirect, (await demoted.Client.GetAsync("/")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await demoted.Client.GetAsync("/api/groups")).StatusCode);
    }

    [Fact]
    public async Task Session_signing_keys_are_kept_in_the_database_encrypted()
    {
        using var session = await WebSession.SignInAsync(_app, Roles.Coordinator);

        await using var connection = await _app.Db.OpenConnectionAsync();
        var keys = (await connection.QueryAsync<string>("SELECT xml FROM data_protection_keys")).ToList();
        Assert.NotEmpty(keys);
        Assert.All(keys, xml =>
        {
            Assert.Contains("encryptedKey", xml, StringComparison.Ordinal);
            Assert.DoesNotContain("masterKey", xml, StringComparison.Ordinal);
        });
    }
}
