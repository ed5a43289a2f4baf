using System.Net;
using System.Text.RegularExpressions;
using AlertNet.Accounts;
using AlertNet.Infrastructure.Auth;
using AlertNet.Tests.Support;
using Dapper;
using OtpNet;

namespace AlertNet.Tests.Accounts;

/// <summary>With AlertNet's default settings admins and organizers cannot get a session with a password alone: those
/// without an authenticator app set one up at sign-in. An admin can reset someone's second factor (a lost phone).</summary>
public sealed partial class TwoStepSignInTests : IAsyncLifetime
{
    private AlertNetTestApp _app = null!;

    // The test host turns two-step sign-in off for the other tests; removing the setting gives AlertNet's default.
    public async Task InitializeAsync() =>
        _app = await AlertNetTestApp.StartAsync(overrides: new Dictionary<string, string?> { ["Web:RequireTwoFactor"] = null });

    public async Task DisposeAsync() => await _app.DisposeAsync();

    [Theory]
    [InlineData(Roles.Organizer)]
    [InlineData(Roles.Admin)]
    public async Task By_default_an_organizer_or_admin_without_a_second_factor_sets_it_up_before_getting_a_session(string role)
    {
        var name = await CreateAsync(role);
        using var browser = WebSession.Anonymous(_app);

        var signIn = await browser.PostFormAsync("/login?returnUrl=%2Fhotline",
            new() { ["name"] = name, ["password"] = WebSession.Password }, "/login");

        Assert.Equal(HttpStatusCode.Redirect, signIn.StatusCode);
        Assert.Equal("/login/setup?returnUrl=%2Fhotline", signIn.Headers.Location!.OriginalString);
        Assert.Equal(HttpStatusCode.Redirect, (await browser.Client.GetAsync("/hotline")).StatusCode); // the password alone grants nothing

        var page = await browser.Client.GetStringAsync("/login/setup?returnUrl=%2Fhotline");
        var secret = Base32Encoding.ToBytes(SecretText().Match(page).Groups[1].Value);
        var wrong = await browser.PostFormAsync("/login/setup?returnUrl=%2Fhotline", new()
        {
            ["protectedSecret"] = WebUtility.HtmlDecode(ProtectedSecret().Match(page).Groups[1].Value),
            ["code"] = new Totp(secret).ComputeTotp() == "000000" ? "111111" : "000000",
        }, "/login/setup");
        Assert.Equal(HttpStatusCode.OK, wrong.StatusCode);
        Assert.Equal(HttpStatusCode.Redirect, (await browser.Client.GetAsync("/hotline")).StatusCode);

        var done = await browser.PostFormAsync("/login/setup?returnUrl=%2Fhotline", new()
        {
            ["protectedSecret"] = WebUtility.HtmlDecode(ProtectedSecret().Match(page).Groups[1].Value),
            ["code"] = new Totp(secret).ComputeTotp(),
        }, "/login/setup");

        Assert.Equal(HttpStatusCode.Redirect, done.StatusCode);
        Assert.Equal("/hotline", done.Headers.Location!.OriginalString);
        Assert.Equal(HttpStatusCode.OK, (await browser.Client.GetAsync("/hotline")).StatusCode);
        Assert.True((await Accounts.ListAsync(CancellationToken.None)).Single(u => u.Name == name).HasTotp);
        Assert.Equal(1, await ScalarAsync<int>($"SELECT count(*) FROM audit_log WHERE subject = 'user:{name}' AND action = 'user.two-factor.enable'"));
    }

    [Fact]
    public async Task A_coordinator_still_signs_in_with_a_password_and_the_setting_turns_the_requirement_off()
    {
        using var coordinator = await WebSession.SignInAsync(_app, Roles.Coordinator);
        Assert.Equal(HttpStatusCode.OK, (await coordinator.Client.GetAsync("/hotline")).StatusCode);

        await using var off = await AlertNetTestApp.StartAsync(overrides: new Dictionary<string, string?> { ["Web:RequireTwoFactor"] = "false" });
        using var organizer = await WebSession.SignInAsync(off, Roles.Organizer);
        Assert.Equal(HttpStatusCode.OK, (await organizer.Client.GetAsync("/alerts/new")).StatusCode);
    }

    [Fact]
    public async Task An_admin_resets_a_lost_second_factor_which_ends_its_sessions_and_is_audited()
    {
        using var admin = await SignInWithCodeAsync(Roles.Admin);
        using var organizer = await SignInWithCodeAsync(Roles.Organizer);
        Assert.Equal(HttpStatusCode.OK, (await organizer.Client.GetAsync("/alerts/new")).StatusCode);
        var organizerId = (await Accounts.ListAsync(CancellationToken.None)).Single(u => u.Name == organizer.Name).Id;
        Assert.Contains("Reset two-step sign-in of " + organizer.Name, await admin.Client.GetStringAsync("/admin/users"), StringComparison.Ordinal);

        var reset = await admin.PostFormAsync($"/admin/users?handler=twofactorreset&id={organizerId}", [], "/admin/users");

        Assert.Equal(HttpStatusCode.OK, reset.StatusCode);
        Assert.False((await Accounts.FindAsync(organizerId, CancellationToken.None))!.HasTotp);
        Assert.Equal(HttpStatusCode.Redirect, (await organizer.Client.GetAsync("/alerts/new")).StatusCode);
        Assert.Equal(1, await ScalarAsync<int>(
            $"SELECT count(*) FROM audit_log WHERE actor = '{admin.Name}' AND subject = 'user:{organizer.Name}' AND action = 'user.two-factor.reset'"));
        using var again = WebSession.Anonymous(_app);
        var signIn = await again.PostFormAsync("/login", new() { ["name"] = organizer.Name, ["password"] = WebSession.Password }, "/login");
        Assert.StartsWith("/login/setup", signIn.Headers.Location!.OriginalString, StringComparison.Ordinal);

        // Not something an organizer may do.
        using var byOrganizer = await SignInWithCodeAsync(Roles.Organizer);
        var refused = await byOrganizer.PostFormAsync($"/admin/users?handler=twofactorreset&id={organizerId}", [], "/alerts/new");
        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
    }

    [Fact]
    public async Task A_required_second_factor_cannot_be_turned_off_by_its_owner()
    {
        using var organizer = await SignInWithCodeAsync(Roles.Organizer);

        var response = await organizer.PostFormAsync("/account/two-factor?handler=disable", new() { ["code"] = "123456" }, "/account/two-factor");

        Assert.Contains("required for your role", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, (await organizer.Client.GetAsync("/alerts/new")).StatusCode);
    }

    private UserAccounts Accounts => _app.Services.GetRequiredService<UserAccounts>();

    private async Task<string> CreateAsync(string role)
    {
        var name = $"{role}-{Guid.NewGuid():N}"[..20];
        Assert.NotNull(await Accounts.CreateAsync(name, role, WebSession.Password, CancellationToken.None));
        return name;
    }

    /// <summary>An account with an authenticator app, signed in through the password and code pages.</summary>
    private async Task<WebSession> SignInWithCodeAsync(string role)
    {
        var name = await CreateAsync(role);
        var id = (await Accounts.ListAsync(CancellationToken.None)).Single(u => u.Name == name).Id;
        var secret = UserAccounts.NewTotpSecret();
        Assert.True(await Accounts.EnableTotpAsync(id, secret, new Totp(secret).ComputeTotp(), CancellationToken.None));
        var session = WebSession.Anonymous(_app, name);
        var password = await session.PostFormAsync("/login", new() { ["name"] = name, ["password"] = WebSession.Password }, "/login");
        Assert.StartsWith("/login/code", password.Headers.Location!.OriginalString, StringComparison.Ordinal);
        // Enabling spent this 30-second step's code; the next step's is accepted (one step of clock drift).
        var code = await session.PostFormAsync("/login/code", new() { ["code"] = new Totp(secret).ComputeTotp(DateTime.UtcNow.AddSeconds(30)) }, "/login/code");
        Assert.Equal(HttpStatusCode.Redirect, code.StatusCode);
        await session.RefreshFormTokenAsync("/");
        return session;
    }

    private async Task<T> ScalarAsync<T>(string sql)
    {
        await using var connection = await _app.Db.OpenConnectionAsync();
        return (await connection.ExecuteScalarAsync<T>(sql))!;
    }

    [GeneratedRegex("""id="totp-secret">([A-Z2-7]+)<""")]
    private static partial Regex SecretText();

    [GeneratedRegex("""name="protectedSecret" value="([^"]+)">""")]
    private static partial Regex ProtectedSecret();
}
