using System.Net;
using AlertNet.Tests.Support;

namespace AlertNet.Tests.Delivery;

/// <summary>Status callbacks keep coming while PostgreSQL is unreachable. Each gets a short 503 that says the status will
/// be looked up later (not a 500), and the log stays readable: found by the chaos command's restart scenario, where one
/// failed group write's exception, shared by every callback waiting on it, grew by each one's stack until single log
/// entries held thousands of frames.</summary>
public sealed class CallbacksDuringDatabaseOutageTests : IAsyncLifetime
{
    private AlertNetTestApp _app = null!;

    public async Task InitializeAsync() => _app = await AlertNetTestApp.StartAsync(role: "web");

    public async Task DisposeAsync()
    {
        await TestCluster.SetConnectionsAllowedAsync(_app.ConnectionString, allowed: true);
        await _app.DisposeAsync();
    }

    [Fact]
    public async Task Callbacks_while_the_database_is_down_get_a_503_and_the_log_stays_short()
    {
        await TestCluster.SetConnectionsAllowedAsync(_app.ConnectionString, allowed: false);

        var answers = await Task.WhenAll(Enumerable.Range(1, 200).Select(async id =>
        {
            using var response = await _app.PostSignedAsync($"/webhooks/twilio/status?deliveryId={id}", Delivered(id));
            return (response.StatusCode, Body: await response.Content.ReadAsStringAsync());
        }));

        Assert.All(answers, a => Assert.Equal(HttpStatusCode.ServiceUnavailable, a.StatusCode));
        Assert.Contains("looked up later", answers[0].Body, StringComparison.Ordinal);
        var longest = _app.Logs.Lines.Max(l => l.Length);
        Assert.True(longest < 20_000, $"the longest log entry has {longest:N0} characters");

        await TestCluster.SetConnectionsAllowedAsync(_app.ConnectionString, allowed: true);
        await Eventually.TrueAsync(async () =>
        {
            using var response = await _app.PostSignedAsync("/webhooks/twilio/status?deliveryId=1", Delivered(1));
            return response.StatusCode == HttpStatusCode.OK;
        }, TimeSpan.FromSeconds(30), "callbacks to be taken again once the database is back");
    }

    private static Dictionary<string, string> Delivered(int id) => new()
    {
        ["MessageSid"] = $"SM{id:D32}",
        ["MessageStatus"] = "delivered",
    };
}
