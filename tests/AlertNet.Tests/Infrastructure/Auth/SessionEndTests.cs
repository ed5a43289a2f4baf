using System.Net;
using System.Text;
using AlertNet.Infrastructure.Auth;
using AlertNet.Tests.Support;

namespace AlertNet.Tests.Infrastructure.Auth;

/// <summary>Sessions end on the server (sign-out, absolute lifetime), return addresses cannot send a signed-in person
/// elsewhere or break the sign-in page, webhooks refuse big bodies unread, and no site may frame the jobs dashboard.</summary>
public sealed class SessionEndTests : IAsyncLifetime
{
    private AlertNetTestApp _app = null!;

    public async Task InitializeAsync() => _app = await AlertNetTestApp.StartAsync();

    public async Task DisposeAsync() => await _app.DisposeAsync();

    [Fact]
    public async Task A_session_cookie_copied_before_sign_out_is_refused_after_it()
    {
        using var session = await WebSession.SignInAsync(_app, Roles.Coordinator);
        var stolen = session.Cookies.GetCookieHeader(new Uri(_app.BaseUrl));
        Assert.Equal(HttpStatusCode.OK, (await WithCookieAsync(stolen, "/")).StatusCode);

        var signOut = await session.PostFormAsync("/logout", [], "/logout");
        Assert.Equal(HttpStatusCode.Redirect, signOut.StatusCode);

        var replay = await WithCookieAsync(stolen, "/");
        Assert.Equal(HttpStatusCode.Redirect, replay.StatusCode);
        Assert.StartsWith("/login", replay.Headers.Location!.AbsolutePath, StringComparison.Ordinal);
        var api = await WithCookieAsync(stolen, "/api/groups");
        Assert.Equal(HttpStatusCode.Unauthorized, api.StatusCode);
    }

    [Fact]
    public async Task A_session_ends_SessionMaxHours_after_sign_in_however_active_it_is()
    {
        // 0.001 h = 3.6 s; the idle timeout (60 minutes) and sliding renewal on every request would keep it forever.
        await using var app = await AlertNetTestApp.StartAsync(overrides: new Dictionary<string, string?> { ["Web:SessionMaxHours"] = "0.001" });
        // Taken before signing in: the lifetime starts inside the sign-in request, which a busy machine can make slow.
        var signedIn = DateTime.UtcNow;
        using var session = await WebSession.SignInAsync(app, Roles.Coordinator);

        await Eventually.TrueAsync(async () => (await session.Client.GetAsync("/")).StatusCode == HttpStatusCode.Redirect,
            TimeSpan.FromSeconds(60), "the session to end after 3.6 s");

        Assert.True(DateTime.UtcNow - signedIn >= TimeSpan.FromSeconds(3), "ended before its lifetime");
        Assert.Equal(HttpStatusCode.Redirect, (await session.Client.GetAsync("/")).StatusCode);
    }

    [Theory]
    [InlineData("/%09/x")]
    [InlineData("//evil.example/")]
    [InlineData("/%5Cevil.example")]
    [InlineData("/%0D%0A/evil.example")]
    [InlineData("https://evil.example/")]
    [InlineData("%2F%2Fevil.example")]
    public async Task A_return_address_that_is_not_local_leads_home_and_never_answers_500(string returnUrl)
    {
        var name = $"ret-{Guid.NewGuid():N}"[..16];
        await _app.Services.GetRequiredService<AlertNet.Accounts.UserAccounts>().CreateAsync(name, Roles.Coordinator, WebSession.Password, CancellationToken.None);
        using var browser = WebSession.Anonymous(_app);

        var page = await browser.Client.GetAsync("/login?returnUrl=" + returnUrl);
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        var signIn = await browser.PostFormAsync("/login?returnUrl=" + returnUrl,
            new() { ["name"] = name, ["password"] = WebSession.Password }, "/login");
        Assert.Equal(HttpStatusCode.Redirect, signIn.StatusCode);
        Assert.Equal("/", signIn.Headers.Location!.OriginalString);

        var signedIn = await browser.Client.GetAsync("/login?returnUrl=" + returnUrl);
        Assert.Equal(HttpStatusCode.Redirect, signedIn.StatusCode);
        Assert.Equal("/", signedIn.Headers.Location!.OriginalString);
    }

    [Fact]
    public async Task A_local_return_address_is_kept()
    {
        using var session = await WebSession.SignInAsync(_app, Roles.Coordinator);

        var response = await session.Client.GetAsync("/login?returnUrl=%2Fhotline%3Fpage%3D2");

        Assert.Equal("/hotline?page=2", response.Headers.Location!.OriginalString);
    }

    [Theory]
    [InlineData("/webhooks/twilio/inbound", false)]
    [InlineData("/webhooks/twilio/status?deliveryId=1", false)]
    [InlineData("/webhooks/twilio/inbound", true)]
    public async Task A_webhook_body_over_64_KB_is_refused_with_413_before_it_is_read(string path, bool chunked)
    {
        var body = Encoding.ASCII.GetBytes("Body=" + new string('a', 64 * 1024) + "&From=%2B12025550100");
        HttpContent content = chunked ? new StreamContent(new UnknownLengthStream(body)) : new ByteArrayContent(body);
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/x-www-form-urlencoded");

        var response = await _app.Http.PostAsync(path, content);

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        // A small unsigned body is still read and refused for its signature.
        var small = await _app.Http.PostAsync(path, new FormUrlEncodedContent(new Dictionary<string, string> { ["Body"] = "JOIN" }));
        Assert.Equal(HttpStatusCode.Forbidden, small.StatusCode);
    }

    [Fact]
    public async Task The_jobs_dashboard_may_not_be_framed_by_any_site()
    {
        using var admin = await WebSession.SignInAsync(_app, Roles.Admin);

        var response = await admin.Client.GetAsync("/jobs");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("frame-ancestors 'none'", response.Headers.GetValues("Content-Security-Policy").Single(), StringComparison.Ordinal);
    }

    private async Task<HttpResponseMessage> WithCookieAsync(string cookie, string path)
    {
        using var client = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false, UseCookies = false }) { BaseAddress = new Uri(_app.BaseUrl) };
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Add("Cookie", cookie);
        return await client.SendAsync(request);
    }

    /// <summary>A body whose length HttpClient cannot know, so it is sent chunked (no Content-Length to refuse it by).</summary>
    private sealed class UnknownLengthStream(byte[] data) : MemoryStream(data)
    {
        public override bool CanSeek => false;
    }
}
