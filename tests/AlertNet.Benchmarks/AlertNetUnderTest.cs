using System.Diagnostics;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using AlertNet.Hosting;
using AlertNet.Infrastructure.Auth;
using AlertNet.Infrastructure.Database;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace AlertNet.Benchmarks;

/// <summary>Everything AlertNet under test is configured with: LIVE mode against the emulator, made-up
/// Twilio credentials the emulator accepts, fresh random keys, and the run's own database.</summary>
internal sealed record AlertNetConfig(string ConnectionString, string EncryptionKey, string BlindIndexKey, FakeTwilioAccount Twilio, string EmulatorUrl)
{
    /// <summary>The settings of one AlertNet listening on <paramref name="port"/>. A worker-only process gets the
    /// web process's address as its public URL: that is where Twilio's callbacks must go.</summary>
    public Dictionary<string, string?> Settings(int port, string role = "all", string? publicBaseUrl = null) => new()
    {
        ["ConnectionStrings:AlertNet"] = ConnectionString,
        ["urls"] = $"http://127.0.0.1:{port}",
        // Where the emulator posts status callbacks and what signatures are checked against.
        ["AlertNet:PublicBaseUrl"] = publicBaseUrl ?? $"http://127.0.0.1:{port}",
        ["AlertNet:Role"] = role,
        ["AlertNet:Mode"] = "live",
        // Live mode wants a contact for HELP replies, as carriers require.
        ["AlertNet:ContactInfo"] = "benchmark@example.invalid",
        ["AlertNet:EncryptionKey"] = EncryptionKey,
        ["AlertNet:BlindIndexKey"] = BlindIndexKey,
        ["Twilio:AccountSid"] = Twilio.AccountSid,
        ["Twilio:AuthToken"] = Twilio.AuthToken,
        ["Twilio:From"] = Twilio.From,
        ["Twilio:ApiBaseUrl"] = EmulatorUrl,
        // An information line per alert is fine in production, noise at 400 alerts a minute.
        ["Logging:LogLevel:Default"] = "Warning",
        // The bench measures sending, not a second organizer's approval of its 100k-recipient alerts.
        ["Alerts:ApprovalThreshold"] = "0",
    };
}

/// <summary>AlertNet hosted in the benchmark's process, as the integration tests host it: the real
/// AddAlertNet/MapAlertNet on Kestrel, web and worker roles together.</summary>
internal sealed class InProcessAlertNet : IAsyncDisposable
{
    private readonly WebApplication _app;
    private bool _stopped;

    private InProcessAlertNet(WebApplication app, string baseUrl)
    {
        _app = app;
        BaseUrl = baseUrl;
    }

    public string BaseUrl { get; }

    public IServiceProvider Services => _app.Services;

    public static async Task<InProcessAlertNet> StartAsync(AlertNetConfig config, CancellationToken cancellationToken)
    {
        var port = ChildProcesses.FreeLoopbackPort();
        var settings = config.Settings(port);
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions
        {
            ApplicationName = typeof(AlertNetHost).Assembly.GetName().Name,
            EnvironmentName = "Production",
            ContentRootPath = AppContext.BaseDirectory,
        });
        builder.Configuration.AddInMemoryCollection(settings);
        builder.Logging.ClearProviders();
        builder.Logging.AddSimpleConsole(console => console.SingleLine = true);
        builder.AddAlertNet();

        var app = builder.Build();
        app.MapAlertNet();
        await app.Services.GetRequiredService<DatabaseMigrator>().MigrateAsync(cancellationToken);
        await app.StartAsync(cancellationToken);
        return new InProcessAlertNet(app, settings["AlertNet:PublicBaseUrl"]!);
    }

    public Task<string> CreateOrganizerTokenAsync(CancellationToken cancellationToken) =>
        Services.GetRequiredService<ApiTokens>().CreateAsync("benchmark", Roles.Organizer, cancellationToken);

    /// <summary>Stops the Hangfire servers and Kestrel, so that another AlertNet can take over the database.</summary>
    public async Task StopAsync()
    {
        if (_stopped)
        {
            return;
        }

        _stopped = true;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await _app.StopAsync(timeout.Token);
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        await _app.DisposeAsync();
    }
}

/// <summary>AlertNet as its own process (<c>dotnet src/AlertNet/bin/Release/net10.0/AlertNet.dll</c>), for the
/// 1M phase: only there is the peak RSS AlertNet's alone.</summary>
internal sealed class AlertNetProcess : IAsyncDisposable
{
    private readonly Process _process;

    private AlertNetProcess(Process process, string baseUrl)
    {
        _process = process;
        BaseUrl = baseUrl;
    }

    public string BaseUrl { get; }

    public int ProcessId => _process.Id;

    public bool HasExited => _process.HasExited;

    /// <summary>Starts AlertNet with the run's settings, <paramref name="role"/> and any <paramref name="overrides"/>,
    /// and waits until its /healthz answers.</summary>
    public static async Task<AlertNetProcess> StartAsync(AlertNetConfig config, string repoRoot, CancellationToken cancellationToken,
        string role = "all", string? publicBaseUrl = null, IDictionary<string, string?>? overrides = null)
    {
        var alertNet = Launch(config, repoRoot, role, publicBaseUrl, overrides);
        await alertNet.WaitUntilReadyAsync(cancellationToken);
        return alertNet;
    }

    /// <summary>Starts the process and returns at once (the chaos run kills some before they are ready).</summary>
    public static AlertNetProcess Launch(AlertNetConfig config, string repoRoot, string role = "all", string? publicBaseUrl = null,
        IDictionary<string, string?>? overrides = null)
    {
        var dll = Path.Combine(repoRoot, "src", "AlertNet", "bin", "Release", "net10.0", "AlertNet.dll");
        if (!File.Exists(dll))
        {
            throw new FileNotFoundException("Build AlertNet in Release first (infra/bench.sh does).", dll);
        }

        var port = ChildProcesses.FreeLoopbackPort();
        var start = new ProcessStartInfo(ChildProcesses.DotnetHost(), [dll]) { WorkingDirectory = Path.GetDirectoryName(dll)! };
        var settings = config.Settings(port, role, publicBaseUrl);
        foreach (var (key, value) in overrides ?? new Dictionary<string, string?>())
        {
            settings[key] = value;
        }

        foreach (var (key, value) in settings)
        {
            start.Environment[key.Replace(":", "__", StringComparison.Ordinal)] = value;
        }

        return new AlertNetProcess(ChildProcesses.Start(start, $"[alertnet {role}]", $"AlertNet process ({role})"), $"http://127.0.0.1:{port}");
    }

    /// <summary>Until /healthz answers; throws if the process exits first or is not up within a minute.</summary>
    public async Task WaitUntilReadyAsync(CancellationToken cancellationToken)
    {
        using var http = new HttpClient { BaseAddress = new Uri(BaseUrl), Timeout = TimeSpan.FromSeconds(5) };
        using var ready = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        ready.CancelAfter(TimeSpan.FromSeconds(60));
        while (true)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"AlertNet exited with code {_process.ExitCode} while starting.");
            }

            try
            {
                using var response = await http.GetAsync("/healthz", ready.Token);
                if (response.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
            }
            catch (TaskCanceledException) when (!ready.IsCancellationRequested)
            {
                // This probe's own 5 s timeout (a busy machine, or PostgreSQL restarting): ask again.
            }

            await Task.Delay(200, ready.Token);
        }
    }

    /// <summary>SIGKILL, as a crash or the out-of-memory killer would: no shutdown, no clean-up.</summary>
    public Task KillAsync() => ChildProcesses.KillAsync(_process);

    public ValueTask DisposeAsync() => new(ChildProcesses.StopAsync(_process, TimeSpan.FromSeconds(10)));
}

/// <summary>AlertNet's REST API, as an organizer uses it.</summary>
internal sealed class AlertNetApi : IDisposable
{
    private readonly HttpClient _http;

    public AlertNetApi(string baseUrl, string token)
    {
        _http = new HttpClient { BaseAddress = new Uri(baseUrl), Timeout = TimeSpan.FromSeconds(30) };
        _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
    }

    /// <summary>The organizer's client, for calls without a helper here.</summary>
    public HttpClient Http => _http;

    /// <summary>POST /api/alerts; returns the alert id.</summary>
    public async Task<long> TriggerAsync(string type, string group, string body, CancellationToken cancellationToken)
    {
        using var response = await _http.PostAsJsonAsync("/api/alerts", new
        {
            type,
            groups = new[] { group },
            bodies = new Dictionary<string, string> { ["en"] = body, ["es"] = "ES: " + body },
        }, cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"POST /api/alerts answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync(cancellationToken)}");
        }

        return (await response.Content.ReadFromJsonAsync<JsonElement>(cancellationToken)).GetProperty("id").GetInt64();
    }

    public void Dispose() => _http.Dispose();
}
