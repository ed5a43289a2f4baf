using System.Net;
using AlertNet.Infrastructure.Auth;
using AlertNet.Tests.Support;
using Dapper;

namespace AlertNet.Tests.Hosting;

/// <summary>What an operator's tooling sees: readiness, Prometheus metrics, log scopes.</summary>
public sealed class OperationsTests : IAsyncLifetime
{
    private readonly int _metricsPort = AlertNetTestApp.FreePort();
    private AlertNetTestApp _app = null!;

    public async Task InitializeAsync() => _app = await AlertNetTestApp.StartAsync(overrides: new Dictionary<string, string?>
    {
        ["Metrics:Port"] = _metricsPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
    });

    public async Task DisposeAsync() => await _app.DisposeAsync();

    [Fact]
    public async Task Readyz_is_200_when_ready_and_503_with_the_reason_when_a_migration_or_Hangfires_storage_is_missing()
    {
        var ready = await _app.Http.GetAsync("/readyz");
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);

        await using var db = await _app.Db.OpenConnectionAsync();
        await db.ExecuteAsync("DELETE FROM schemaversions WHERE scriptname LIKE '%0008_retention_and_key_ring.sql'");
        var behind = await _app.Http.GetAsync("/readyz");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, behind.StatusCode);
        Assert.Contains("migrations not applied: 0008_retention_and_key_ring", await behind.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        await db.ExecuteAsync("INSERT INTO schemaversions (scriptname, applied) VALUES ('AlertNet.Infrastructure.Database.Migrations.0008_retention_and_key_ring.sql', now())");
        Assert.Equal(HttpStatusCode.OK, (await _app.Http.GetAsync("/readyz")).StatusCode);

        await db.ExecuteAsync("ALTER TABLE hangfire.server RENAME TO server_gone");
        try
        {
            var noHangfire = await _app.Http.GetAsync("/readyz");
            Assert.Equal(HttpStatusCode.ServiceUnavailable, noHangfire.StatusCode);
            Assert.Contains("Hangfire storage unreachable", await noHangfire.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }
        finally
        {
            await db.ExecuteAsync("ALTER TABLE hangfire.server_gone RENAME TO server");
        }
    }

    [Fact]
    public async Task Prometheus_reads_sends_failures_by_code_queue_depth_and_latency_on_the_metrics_port_only()
    {
        await _app.JoinAllAsync(AlertNetTestApp.Numbers(3, first: 3600));
        await _app.TextAsync("+15005550060", "JOIN"); // fails with 30006
        var organizer = await _app.ClientWithRoleAsync(Roles.Organizer);
        var id = await AlertNetTestApp.TriggerAlertAsync(organizer, new { type = "urgent", bodies = new { en = "Checkpoint on Main" } });
        await AlertNetTestApp.WaitUntilSettledAsync(organizer, id, expectedRecipients: 4);

        using var prometheus = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{_metricsPort}") };
        var text = await Eventually.ValueAsync(() => prometheus.GetStringAsync("/metrics"),
            t => Sample(t, "alertnet_messages_delivered_total") == 3, TimeSpan.FromSeconds(30), () => "3 deliveries to be counted");

        Assert.True(Sample(text, "alertnet_messages_sent_total", "channel=\"sms\"", "lane=\"urgent\"") == 4, text);
        Assert.True(Sample(text, "alertnet_messages_failed_total", "code=\"30006\"", "reason=\"permanent\"") == 1, text);
        Assert.True(Sample(text, "alertnet_alert_trigger_to_send_seconds_count", "lane=\"urgent\"") == 4, text);
        Assert.True(Sample(text, "alertnet_deliveries_queued", "lane=\"urgent\"") == 0, text);
        Assert.True(Sample(text, "alertnet_deliveries_queued", "lane=\"bulk\"") == 0, text);
        Assert.DoesNotContain("555", text, StringComparison.Ordinal);
        // Nothing else on the metrics port, and no metrics on the public one.
        Assert.Equal(HttpStatusCode.NotFound, (await prometheus.GetAsync("/api/alerts/1")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await prometheus.GetAsync("/healthz")).StatusCode);
        // (An anonymous page request is sent to the sign-in page: what matters is that no metric comes back.)
        Assert.DoesNotContain("alertnet_", await (await _app.Http.GetAsync("/metrics")).Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.DoesNotContain("alertnet_", await (await organizer.GetAsync("/metrics")).Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Delivery_log_lines_carry_the_alert_id_and_the_batch_in_their_scope()
    {
        await _app.TextAsync("+15005550001", "JOIN"); // Twilio refuses it with 21211: a warning from the sender
        var organizer = await _app.ClientWithRoleAsync(Roles.Organizer);
        var id = await AlertNetTestApp.TriggerAlertAsync(organizer, new { type = "urgent", bodies = new { en = "Checkpoint on Main" } });
        await AlertNetTestApp.WaitUntilSettledAsync(organizer, id, expectedRecipients: 1);

        var line = Assert.Single(_app.Logs.Lines, l => l.Contains("provider error 21211", StringComparison.Ordinal));
        Assert.Contains($"[AlertId={id}]", line, StringComparison.Ordinal);
        Assert.Matches(@"\[DeliveryBatch=\d+\+1\]", line);
    }

    /// <summary>The value of the first Prometheus sample of <paramref name="name"/> with all these labels; -1 if none.</summary>
    private static double Sample(string exposition, string name, params string[] labels) =>
        exposition.Split('\n').FirstOrDefault(l => (l.StartsWith(name + "{", StringComparison.Ordinal) || l.StartsWith(name + " ", StringComparison.Ordinal))
                                                    && labels.All(label => l.Contains(label, StringComparison.Ordinal))) is { } line
            ? double.Parse(line[(line.LastIndexOf(' ') + 1)..], System.Globalization.CultureInfo.InvariantCulture)
            : -1;

}
