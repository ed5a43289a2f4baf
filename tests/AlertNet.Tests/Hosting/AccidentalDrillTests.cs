using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using AlertNet.Hosting;
using AlertNet.Infrastructure.Auth;
using AlertNet.Infrastructure.Twilio;
using AlertNet.Privacy;
using AlertNet.Tests.Support;

namespace AlertNet.Tests.Hosting;

/// <summary>A server that lacks its Twilio settings must not quietly run the carrier simulator (organizers would believe
/// their alerts go out, and the phone simulator would let any coordinator text as an organizer's phone).</summary>
public sealed class AccidentalDrillTests
{
    [Fact]
    public async Task Without_credentials_outside_Development_the_server_refuses_to_start_and_says_how_to_run_a_drill()
    {
        var (exited, exitCode, output) = await RunServerAsync(mode: null);

        Assert.True(exited, "The server started as a drill nobody asked for:\n" + output);
        Assert.NotEqual(0, exitCode);
        Assert.Contains("AlertNet refuses to start: no Twilio credentials", output, StringComparison.Ordinal);
        Assert.Contains("AlertNet:Mode=drill", output, StringComparison.Ordinal);
        Assert.DoesNotContain("Unhandled exception", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task With_Mode_drill_the_same_server_starts_as_a_drill()
    {
        var (exited, _, output) = await RunServerAsync(mode: "drill");

        Assert.False(exited, "The drill did not start:\n" + output);
        Assert.Contains("DRILL MODE", output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("auto", false, true)]
    [InlineData("auto", true, false)]
    [InlineData("drill", false, false)]
    public void Only_Development_may_run_a_drill_without_asking(string mode, bool development, bool refused)
    {
        var app = new AlertNetOptions { Mode = mode };
        var settings = TwilioSettings.Resolve(app, new TwilioOptions { DrillAuthToken = "token" });

        Assert.Equal(refused, TwilioSettings.RefusalToServe(app, settings, development) is not null);
    }

    [Fact]
    public async Task The_phone_simulator_exists_only_in_a_drill_started_with_Mode_drill()
    {
        foreach (var (mode, expected) in new[] { ("auto", HttpStatusCode.NotFound), ("drill", HttpStatusCode.OK) })
        {
            await using var app = await AlertNetTestApp.StartAsync(overrides: new Dictionary<string, string?> { ["AlertNet:Mode"] = mode });
            using var coordinator = await WebSession.SignInAsync(app, Roles.Coordinator);

            Assert.Equal(expected, (await coordinator.Client.GetAsync("/phone-simulator")).StatusCode);
            var text = coordinator.WithFormToken(new HttpRequestMessage(HttpMethod.Post, "/api/drill/phone/text")
            {
                Content = JsonContent.Create(new { number = "+12025550100", body = "HELP" }),
            });
            var status = (await coordinator.Client.SendAsync(text)).StatusCode;
            Assert.True(mode == "drill" ? status == HttpStatusCode.OK : status == HttpStatusCode.NotFound, $"{mode}: {status}");
            Assert.Equal(mode == "drill", (await coordinator.Client.GetStringAsync("/")).Contains("/phone-simulator", StringComparison.Ordinal));
        }
    }

    /// <summary>Starts the real executable as a production server would be started, without Twilio settings; returns
    /// whether it exited within a minute (killed otherwise, once it answered /healthz), its exit code and output.</summary>
    private static async Task<(bool Exited, int ExitCode, string Output)> RunServerAsync(string? mode)
    {
        var database = await TestCluster.CreateDatabaseAsync();
        var port = AlertNetTestApp.FreePort();
        try
        {
            var start = new ProcessStartInfo("dotnet", [AlertNetTestApp.AlertNetDll()])
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                WorkingDirectory = Path.GetDirectoryName(AlertNetTestApp.AlertNetDll())!,
            };
            start.Environment["ConnectionStrings__AlertNet"] = database;
            start.Environment["urls"] = $"http://127.0.0.1:{port}";
            start.Environment["AlertNet__PublicBaseUrl"] = $"http://127.0.0.1:{port}";
            start.Environment["AlertNet__EncryptionKey"] = KeyFile.NewKey();
            start.Environment["AlertNet__BlindIndexKey"] = KeyFile.NewKey();
            start.Environment["Twilio__DrillAuthToken"] = Guid.NewGuid().ToString("N");
            start.Environment["DOTNET_ENVIRONMENT"] = "Production";
            start.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
            if (mode is not null)
            {
                start.Environment["AlertNet__Mode"] = mode;
            }

            using var process = Process.Start(start)!;
            var output = new System.Collections.Concurrent.ConcurrentQueue<string>();
            process.OutputDataReceived += (_, e) => { if (e.Data is not null) output.Enqueue(e.Data); };
            process.ErrorDataReceived += (_, e) => { if (e.Data is not null) output.Enqueue(e.Data); };
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(5) };
            var deadline = DateTime.UtcNow.AddSeconds(60);
            while (DateTime.UtcNow < deadline && !process.HasExited)
            {
                try
                {
                    if ((await http.GetAsync("/healthz")).IsSuccessStatusCode)
                    {
                        break;
                    }
                }
                catch (HttpRequestException)
                {
                    // Not listening yet (or never will be): ask again until it exits or the deadline.
                }

                await Task.WhenAny(process.WaitForExitAsync(), Task.Delay(250));
            }

            var exited = process.HasExited;
            if (!exited)
            {
                process.Kill(entireProcessTree: true);
            }

            await process.WaitForExitAsync();
            return (exited, process.ExitCode, string.Join('\n', output));
        }
        finally
        {
            await TestCluster.DropDatabaseAsync(database);
        }
    }

}
