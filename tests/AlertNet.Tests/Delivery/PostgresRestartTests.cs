using System.Diagnostics;
using AlertNet.Infrastructure.Auth;
using AlertNet.Tests.Support;

namespace AlertNet.Tests.Delivery;

/// <summary>PostgreSQL restarts in the middle of an alert sent by a web process and three worker processes (the
/// test-sized version of the chaos command's second scenario). This test runs its own small cluster (infra/postgres.sh
/// on another port, ALERTNET_RESTART_PG_PORT or 5439, and folder), so restarting it disturbs no other test.</summary>
public sealed class PostgresRestartTests : IAsyncLifetime
{
    private readonly Dictionary<string, string> _cluster = new()
    {
        ["ALERTNET_PG_PORT"] = Environment.GetEnvironmentVariable("ALERTNET_RESTART_PG_PORT") is { Length: > 0 } port ? port : "5439",
        ["ALERTNET_PG_DATA"] = $"/tmp/alertnet-restart-{Guid.NewGuid():N}"[..36],
    };

    private AlertNetTestApp _app = null!;

    public async Task InitializeAsync()
    {
        await ClusterAsync("start");
        _app = await AlertNetTestApp.StartAsync(role: "web", new Dictionary<string, string?>
        {
            ["ConnectionStrings:AlertNet"] = (await ClusterAsync("url")).Trim(),
            ["Delivery:SegmentsPerSecond"] = "60",
            ["Delivery:BatchSize"] = "10",
            ["Delivery:ClaimLeaseSeconds"] = "5",
            ["Delivery:SweepIntervalSeconds"] = "1",
            ["Delivery:StallSeconds"] = "2",
            // A callback refused while the database was down is not sent again: look the status up.
            ["Delivery:StatusCheckSeconds"] = "3",
        });
    }

    public async Task DisposeAsync()
    {
        await _app.DisposeAsync();
        await ClusterAsync("stop");
        Directory.Delete(_cluster["ALERTNET_PG_DATA"], recursive: true);
        Directory.Delete(_cluster["ALERTNET_PG_DATA"] + "-run", recursive: true);
    }

    [Fact]
    public async Task A_database_restart_mid_alert_loses_and_duplicates_nothing()
    {
        var numbers = AlertNetTestApp.Numbers(300);
        await _app.JoinAllAsync(numbers);
        for (var i = 0; i < 3; i++)
        {
            _app.StartWorkerProcess();
        }

        await _app.WaitForWorkerProcessesAsync(3);
        var organizer = await _app.ClientWithRoleAsync(Roles.Organizer);

        var id = await AlertNetTestApp.TriggerAlertAsync(organizer, new { type = "urgent", bodies = new { en = "Raid reported" } });
        await Eventually.TrueAsync(() => _app.Carrier.AlertMessages().Count >= 60, TimeSpan.FromSeconds(60), "the alert to be going out");
        await ClusterAsync("stop");
        await ClusterAsync("start");

        var alert = await Eventually.ValueAsync(async () =>
            {
                try
                {
                    return await AlertNetTestApp.GetAlertAsync(organizer, id);
                }
                catch (HttpRequestException)
                {
                    return default;
                }
            },
            a => a.ValueKind != System.Text.Json.JsonValueKind.Undefined && a.GetProperty("counts").GetProperty("delivered").GetInt32() == numbers.Length,
            TimeSpan.FromSeconds(180), () => "everyone to get the alert");

        Assert.Equal(numbers.Length, alert.GetProperty("recipients").GetInt32());
        Assert.All(numbers, number => Assert.Equal(1, _app.Carrier.AlertCountTo(number)));
    }

    private async Task<string> ClusterAsync(string command)
    {
        var start = new ProcessStartInfo("bash", [Path.Combine(TestCluster.RepoRoot, "infra", "postgres.sh"), command])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var (key, value) in _cluster)
        {
            start.Environment[key] = value;
        }

        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        Assert.True(process.ExitCode == 0, $"postgres.sh {command}: {await errors}");
        return await output;
    }
}
