using System.Net;
using System.Net.Http.Headers;
using System.Text.RegularExpressions;
using AlertNet.Accounts;
using AlertNet.Infrastructure.Auth;
using AlertNet.Tests.Support;
using Dapper;

namespace AlertNet.Tests.Accounts;

/// <summary>The admin pages over HTTP, as their forms post: tokens shown once and revoked, users unlocked, every
/// action in the audit log, an admin unable to lock themselves out.</summary>
public sealed partial class AdminPagesTests : IAsyncLifetime
{
    private AlertNetTestApp _app = null!;

    public async Task InitializeAsync() => _app = await AlertNetTestApp.StartAsync();

    public async Task DisposeAsync() => await _app.DisposeAsync();

    [Fact]
    public async Task A_token_made_on_the_tokens_page_works_once_shown_and_stops_when_revoked()
    {
        using var admin = await WebSession.SignInAsync(_app, Roles.Admin);

        var created = await (await admin.PostFormAsync("/admin/tokens?handler=create", new() { ["name"] = "field-laptop", ["role"] = "organizer" }, "/admin/tokens"))
            .Content.ReadAsStringAsync();
        var token = ShownToken().Match(created).Groups[1].Value;
        using var api = new HttpClient { BaseAddress = new Uri(_app.BaseUrl) };
        api.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        Assert.Equal(HttpStatusCode.OK, (await api.GetAsync("/api/groups")).StatusCode);
        var list = await admin.Client.GetStringAsync("/admin/tokens");
        Assert.Contains("field-laptop", list, StringComparison.Ordinal);
        Assert.DoesNotContain(token, list, StringComparison.Ordinal);

        var id = await ScalarAsync<long>("SELECT id FROM api_tokens WHERE name = 'field-laptop'");
        var revoked = await admin.PostFormAsync($"/admin/tokens?handler=revoke&id={id}", [], "/admin/tokens");

        Assert.Equal(HttpStatusCode.OK, revoked.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await api.GetAsync("/api/groups")).StatusCode);
        Assert.Equal(2, await ScalarAsync<int>(
            $"SELECT count(*) FROM audit_log WHERE actor = '{admin.Name}' AND subject = 'token:field-laptop' AND action IN ('token.create', 'token.revoke')"));
    }

    [Fact]
    public async Task An_admin_unlocks_a_locked_account_and_each_change_is_audited()
    {
        using var admin = await WebSession.SignInAsync(_app, Roles.Admin);
        var accounts = _app.Services.GetRequiredService<UserAccounts>();
        var user = (await accounts.CreateAsync("locked-out", Roles.Coordinator, WebSession.Password, CancellationToken.None))!;
        // Locked as five wrong authenticator codes lock it (wrong passwords only slow down: SignInThrottleTests).
        await ScalarAsync<int>($"UPDATE users SET locked_until = now() + interval '15 minutes' WHERE id = {user.Id} RETURNING 1");

        Assert.Equal(SignInOutcome.LockedOut, (await accounts.CheckPasswordAsync("locked-out", WebSession.Password, CancellationToken.None)).Outcome);

        await admin.PostFormAsync($"/admin/users?handler=unlock&id={user.Id}", [], "/admin/users");
        await admin.PostFormAsync($"/admin/users?handler=role&id={user.Id}", new() { ["role"] = "organizer" }, "/admin/users");

        Assert.Equal(SignInOutcome.Success, (await accounts.CheckPasswordAsync("locked-out", WebSession.Password, CancellationToken.None)).Outcome);
        Assert.Equal(Roles.Organizer, (await accounts.FindAsync(user.Id, CancellationToken.None))!.Role);
        Assert.Equal(["user.role", "user.unlock"], (await QueryAsync<string>(
            $"SELECT action FROM audit_log WHERE actor = '{admin.Name}' AND subject = 'user:locked-out' ORDER BY action")));
    }

    [Fact]
    public async Task An_admin_cannot_demote_or_disable_their_own_account()
    {
        using var admin = await WebSession.SignInAsync(_app, Roles.Admin);
        var me = (await _app.Services.GetRequiredService<UserAccounts>().ListAsync(CancellationToken.None)).Single(u => u.Name == admin.Name);

        var demote = await admin.PostFormAsync($"/admin/users?handler=role&id={me.Id}", new() { ["role"] = "coordinator" }, "/admin/users");
        await admin.PostFormAsync($"/admin/users?handler=disable&id={me.Id}", [], "/admin/users");

        Assert.Contains("This is you", await demote.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        var after = (await _app.Services.GetRequiredService<UserAccounts>().FindAsync(me.Id, CancellationToken.None))!;
        Assert.Equal(Roles.Admin, after.Role);
        Assert.Null(after.DisabledAt);
    }

    [Fact]
    public async Task Unknown_ids_get_a_404_page_not_an_error()
    {
        using var admin = await WebSession.SignInAsync(_app, Roles.Admin);

        Assert.Equal(HttpStatusCode.NotFound, (await admin.PostFormAsync("/admin/users?handler=disable&id=987654", [], "/admin/users")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await admin.PostFormAsync("/admin/tokens?handler=revoke&id=987654", [], "/admin/tokens")).StatusCode);
    }

    private async Task<T> ScalarAsync<T>(string sql)
    {
        await using var connection = await _app.Db.OpenConnectionAsync();
        return (await connection.ExecuteScalarAsync<T>(sql))!;
    }

    private async Task<List<T>> QueryAsync<T>(string sql)
    {
        await using var connection = await _app.Db.OpenConnectionAsync();
        return (await connection.QueryAsync<T>(sql)).AsList();
    }

    [GeneratedRegex("""id="shown-once-token">([^<]+)<""")]
    private static partial Regex ShownToken();
}
