using System.Net;
using AlertNet.Tests.Support;
using Dapper;

namespace AlertNet.Tests.Accounts;

/// <summary>The create-user verb, run as an administrator would: the AlertNet executable with arguments.</summary>
public sealed class CreateUserCommandTests : IAsyncLifetime
{
    private AlertNetTestApp _app = null!;

    public async Task InitializeAsync() => _app = await AlertNetTestApp.StartAsync();

    public async Task DisposeAsync() => await _app.DisposeAsync();

    [Fact]
    public async Task Create_user_prints_a_generated_password_once_that_signs_in_as_admin()
    {
        var (exitCode, output, _) = await _app.RunCommandAsync("create-user", "--name", "first-admin", "--role", "admin");

        Assert.Equal(0, exitCode);
        var password = output.Trim().Split('\n')[^1].Trim();
        Assert.True(password.Length >= 20, output);
        using var session = await WebSession.SignInAsync(_app, "first-admin", password);
        Assert.Equal(HttpStatusCode.OK, (await session.Client.GetAsync("/admin/users")).StatusCode);
        await using var connection = await _app.Db.OpenConnectionAsync();
        Assert.Equal(1, await connection.ExecuteScalarAsync<int>(
            "SELECT count(*) FROM audit_log WHERE action = 'user.create' AND subject = 'user:first-admin' AND actor = 'command-line'"));
        Assert.DoesNotContain(password, await connection.ExecuteScalarAsync<string>("SELECT password_hash FROM users WHERE name = 'first-admin'"),
            StringComparison.Ordinal);
    }

    [Fact]
    public async Task Create_user_takes_the_password_from_standard_input_and_prints_none()
    {
        var (exitCode, output, _) = await _app.RunCommandWithInputAsync("a password typed by the admin\n",
            "create-user", "--name", "maria", "--role", "organizer", "--password-stdin");

        Assert.Equal(0, exitCode);
        Assert.DoesNotContain("a password typed", output, StringComparison.Ordinal);
        using var session = await WebSession.SignInAsync(_app, "maria", "a password typed by the admin");
    }

    [Theory]
    [InlineData("short\n", "--name", "x", "--role", "admin", "--password-stdin")]
    [InlineData(null, "--name", "x", "--role", "superuser")]
    [InlineData(null, "--name", "has space", "--role", "admin")]
    [InlineData(null, "--role", "admin")]
    public async Task Create_user_refuses_bad_arguments_and_short_passwords(string? input, params string[] arguments)
    {
        var (exitCode, _, errors) = await _app.RunCommandWithInputAsync(input, ["create-user", .. arguments]);

        Assert.Equal(2, exitCode);
        Assert.NotEmpty(errors);
    }

    [Fact]
    public async Task Create_user_refuses_a_name_that_exists_in_any_case()
    {
        Assert.Equal(0, (await _app.RunCommandAsync("create-user", "--name", "Lucia", "--role", "coordinator")).ExitCode);

        var (exitCode, _, errors) = await _app.RunCommandAsync("create-user", "--name", "lucia", "--role", "admin");

        Assert.Equal(1, exitCode);
        Assert.Contains("already exists", errors, StringComparison.Ordinal);
    }
}
