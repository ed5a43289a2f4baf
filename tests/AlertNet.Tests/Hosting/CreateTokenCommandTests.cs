using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using AlertNet.Tests.Support;

namespace AlertNet.Tests.Hosting;

/// <summary>The create-token verb, run as a user would: the AlertNet executable with arguments.</summary>
public sealed class CreateTokenCommandTests : IAsyncLifetime
{
    private AlertNetTestApp _app = null!;

    public async Task InitializeAsync() => _app = await AlertNetTestApp.StartAsync();

    public async Task DisposeAsync() => await _app.DisposeAsync();

    [Fact]
    public async Task Create_token_prints_a_token_once_that_then_authorizes_its_role()
    {
        var (exitCode, output) = await RunAlertNetAsync("create-token", "--name", "night-shift", "--role", "organizer");

        Assert.Equal(0, exitCode);
        var token = output.Trim().Split('\n')[^1].Trim();
        Assert.StartsWith("an_", token, StringComparison.Ordinal);
        using var client = new HttpClient { BaseAddress = new Uri(_app.BaseUrl) };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        var response = await client.PostAsJsonAsync("/api/alerts", new { type = "urgent", bodies = new { en = "Test" } });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
    }

    [Fact]
    public async Task Create_token_refuses_an_unknown_role()
    {
        var (exitCode, _) = await RunAlertNetAsync("create-token", "--name", "x", "--role", "superuser");

        Assert.Equal(2, exitCode);
    }

    private async Task<(int ExitCode, string Output)> RunAlertNetAsync(params string[] arguments)
    {
        var (exitCode, output, _) = await _app.RunCommandAsync(arguments);
        return (exitCode, output);
    }
}
