using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Reflection;
using System.Text.Json;
using System.Xml.Linq;
using AlertNet.Hosting;
using AlertNet.Infrastructure.Auth;
using AlertNet.Infrastructure.Database;
using AlertNet.Infrastructure.Twilio;
using AlertNet.Infrastructure.Twilio.Drill;
using AlertNet.Privacy;
using Npgsql;

namespace AlertNet.Tests.Support;

/// <summary>A whole AlertNet host on a real Kestrel port against its own PostgreSQL database, in drill
/// mode: the real Twilio SDK talks HTTP to the built-in carrier simulator, which posts signed status
/// callbacks back. Worker processes can be started beside it against the same database.</summary>
public sealed class AlertNetTestApp : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly List<Process> _workers = [];
    private readonly ConcurrentQueue<string> _workerOutput = new();

    private readonly bool _ownsDatabase;

    private AlertNetTestApp(WebApplication app, string connectionString, Dictionary<string, string?> settings, LogCapture logs, bool ownsDatabase)
    {
        _app = app;
        _ownsDatabase = ownsDatabase;
        ConnectionString = connectionString;
        Settings = settings;
        Logs = logs;
        BaseUrl = settings["AlertNet:PublicBaseUrl"]!;
        Http = new HttpClient { BaseAddress = new Uri(BaseUrl) };
        Db = app.Services.GetRequiredService<NpgsqlDataSource>();
        Protector = app.Services.GetRequiredService<PersonalDataProtector>();
    }

    public string BaseUrl { get; }

    public string ConnectionString { get; }

    public IReadOnlyDictionary<string, string?> Settings { get; }

    public LogCapture Logs { get; }

    public HttpClient Http { get; }

    public NpgsqlDataSource Db { get; }

    /// <summary>The drill carrier simulator (drill mode only).</summary>
    public CarrierSimulator Carrier => _app.Services.GetRequiredService<CarrierSimulator>();

    public PersonalDataProtector Protector { get; }

    public IServiceProvider Services => _app.Services;

    public IReadOnlyList<int> WorkerProcessIds => _workers.Select(w => w.Id).ToList();

    /// <summary>How many of the worker processes started here have exited (killed ones included).</summary>
    public int ExitedWorkerProcesses => _workers.Count(w => w.HasExited);

    /// <summary>Everything the worker processes printed.</summary>
    public IReadOnlyCollection<string> WorkerOutput => _workerOutput;

    /// <param name="database">The connection string of an existing database (another app's, stopped: a restart with other
    /// settings); that database is left in place when this app is disposed. By default a new database, dropped at the end.</param>
    public static async Task<AlertNetTestApp> StartAsync(string role = "all", IDictionary<string, string?>? overrides = null, string? database = null)
    {
        var connectionString = database ?? await TestCluster.CreateMigratedDatabaseAsync();
        var port = FreePort();
        var settings = new Dictionary<string, string?>
        {
            ["ConnectionStrings:AlertNet"] = connectionString,
            ["AlertNet:PublicBaseUrl"] = $"http://127.0.0.1:{port}",
            ["AlertNet:Role"] = role,
            // Drill on purpose: a server without credentials outside Development refuses to start otherwise.
            ["AlertNet:Mode"] = "drill",
            // Most tests sign admins and organizers in with a password only; the two-step sign-in tests
            // (TwoStepSignInTests) turn this back on, and check that it is on by default.
            ["Web:RequireTwoFactor"] = "false",
            ["AlertNet:EncryptionKey"] = KeyFile.NewKey(),
            ["AlertNet:BlindIndexKey"] = KeyFile.NewKey(),
            ["Twilio:DrillAuthToken"] = Guid.NewGuid().ToString("N"),
            // Replies go through the REST API; the inbound webhook waits for its reply to be handed over, so that a
            // test reads the reply as soon as the webhook has answered, however loaded the machine.
            ["Twilio:ReplyWaitSeconds"] = "30",
            // Many tests text one number dozens of times within a minute; SenderLimitsTests checks the real limits.
            ["Subscribers:RepliesPerHour"] = "10000",
            ["Subscribers:ReportsPerHour"] = "10000",
            ["urls"] = $"http://127.0.0.1:{port}",
        };
        foreach (var (key, value) in overrides ?? new Dictionary<string, string?>())
        {
            // A null value removes a setting, so a test can see AlertNet's own default.
            if (value is null)
            {
                settings.Remove(key);
            }
            else
            {
                settings[key] = value;
            }
        }

        var builder = WebApplication.CreateBuilder(new WebApplicationOptions
        {
            ApplicationName = typeof(AlertNetHost).Assembly.GetName().Name,
            EnvironmentName = "Production",
            ContentRootPath = AppContext.BaseDirectory,
        });
        builder.Configuration.AddInMemoryCollection(settings);
        var logs = new LogCapture();
        builder.Logging.ClearProviders();
        builder.Logging.AddProvider(logs);
        builder.Logging.SetMinimumLevel(LogLevel.Debug);
        builder.AddAlertNet();

        var app = builder.Build();
        app.MapAlertNet();
        await app.Services.GetRequiredService<DatabaseMigrator>().MigrateAsync(CancellationToken.None);
        app.AnnounceMode();
        await app.StartAsync();
        return new AlertNetTestApp(app, connectionString, settings, logs, ownsDatabase: database is null);
    }

    public async Task<HttpClient> ClientWithRoleAsync(string role)
    {
        var token = await Services.GetRequiredService<ApiTokens>().CreateAsync("test-" + role, role, CancellationToken.None);
        var client = new HttpClient { BaseAddress = new Uri(BaseUrl) };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return client;
    }

    /// <summary>Posts a form as Twilio would: signed with the (drill) auth token over the public URL.</summary>
    public Task<HttpResponseMessage> PostSignedAsync(string pathAndQuery, IDictionary<string, string> fields, string? authToken = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, pathAndQuery) { Content = new FormUrlEncodedContent(fields) };
        request.Headers.Add("X-Twilio-Signature",
            TwilioSignature.Compute(authToken ?? Settings["Twilio:DrillAuthToken"]!, BaseUrl + pathAndQuery, fields));
        return Http.SendAsync(request);
    }

    /// <summary>A subscriber texting AlertNet from a phone, through the drill carrier as Twilio delivers a text (an inbound
    /// message record, then the signed webhook); returns AlertNet's reply as the phone received it, or null for silence.</summary>
    public async Task<string?> TextAsync(string from, string body)
    {
        var to = ReplyAddress(from);
        var before = Carrier.ReceivedBy(to).Count;
        var text = await Services.GetRequiredService<SimulatedHandsets>().TextAsync(from, body);
        Assert.Equal((int)HttpStatusCode.OK, text.WebhookStatus);
        Assert.Empty(text.TwimlReplies); // replies go through the REST API, never as TwiML
        return RepliesSince(to, before).FirstOrDefault()?.Body;
    }

    /// <summary>Posts a signed inbound webhook with these exact fields, as Twilio would; returns AlertNet's reply as the
    /// sender's phone received it (replies go through the REST API while the webhook runs), or null for silence.</summary>
    public async Task<string?> PostInboundAsync(IDictionary<string, string> fields)
    {
        var to = fields.TryGetValue("From", out var from) ? ReplyAddress(from) : "";
        var before = Carrier.ReceivedBy(to).Count;
        var response = await PostSignedAsync("/webhooks/twilio/inbound", fields);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/xml", response.Content.Headers.ContentType?.MediaType);
        Assert.Null(ReplyText(await response.Content.ReadAsStringAsync()));
        return RepliesSince(to, before).FirstOrDefault()?.Body;
    }

    /// <summary>The replies (not alerts) a phone received after its first <paramref name="skip"/> messages.</summary>
    public IEnumerable<SimulatedMessage> RepliesSince(string address, int skip) =>
        Carrier.ReceivedBy(address).Skip(skip).Where(m => m.StatusCallback?.Contains("kind=reply", StringComparison.Ordinal) == true);

    /// <summary>Where AlertNet's replies to a sender go: its number as AlertNet reads it, on its channel.</summary>
    public string ReplyAddress(string from) =>
        SubscriberAddress.TryParse(from, Settings.TryGetValue("AlertNet:DefaultRegion", out var region) && region is not null ? region : "US")
            ?.TwilioAddress ?? from;

    /// <summary>Fictional numbers (+1 202 555 xxxx) for bulk tests.</summary>
    public static string[] Numbers(int count, int first = 2000) =>
        Enumerable.Range(first, count).Select(i => $"+1202555{i:D4}").ToArray();

    /// <summary>Subscribes many numbers through the real webhook, a few at a time.</summary>
    public async Task JoinAllAsync(IEnumerable<string> numbers) =>
        await Parallel.ForEachAsync(numbers, new ParallelOptions { MaxDegreeOfParallelism = 8 },
            async (number, _) => await TextAsync(number, "JOIN"));

    public static string? ReplyText(string twiml) => XDocument.Parse(twiml).Root?.Element("Message")?.Value;

    public static Dictionary<string, string> InboundFields(string from, string body) => new()
    {
        ["MessageSid"] = "SM" + Guid.NewGuid().ToString("N"),
        ["AccountSid"] = TwilioSettings.DrillAccountSid,
        ["From"] = from,
        ["To"] = TwilioSettings.DrillFrom,
        ["Body"] = body,
        ["NumMedia"] = "0",
    };

    public static async Task<long> TriggerAlertAsync(HttpClient organizer, object request)
    {
        var response = await organizer.PostAsJsonAsync("/api/alerts", request);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetInt64();
    }

    /// <summary>A correction, all-clear or retraction of alert <paramref name="originalId"/>; returns the follow-up's id.</summary>
    public static async Task<long> FollowUpAsync(HttpClient organizer, long originalId, string type, object bodies)
    {
        var response = await organizer.PostAsJsonAsync($"/api/alerts/{originalId}/follow-ups", new { type, bodies });
        Assert.True(response.StatusCode == HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetInt64();
    }

    public static async Task<JsonElement> GetAlertAsync(HttpClient client, long id) =>
        await client.GetFromJsonAsync<JsonElement>($"/api/alerts/{id}");

    /// <summary>Waits until no delivery of the alert is still on its way, then returns the alert.</summary>
    public static Task<JsonElement> WaitUntilSettledAsync(HttpClient client, long id, int expectedRecipients, TimeSpan? timeout = null) =>
        Eventually.ValueAsync(() => GetAlertAsync(client, id), alert =>
            {
                var counts = alert.GetProperty("counts");
                var settled = AlertNet.Delivery.DeliveryState.Final
                    .Sum(state => counts.GetProperty(state).GetInt32());
                return alert.GetProperty("state").GetString() == "done" && settled == expectedRecipients;
            }, timeout ?? TimeSpan.FromSeconds(60), () => $"alert {id} to settle");

    /// <summary>Starts a separate AlertNet worker process (AlertNet:Role=worker) on the same database.</summary>
    public void StartWorkerProcess(IDictionary<string, string?>? overrides = null)
    {
        var start = new ProcessStartInfo("dotnet", [AlertNetDll()])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = Path.GetDirectoryName(AlertNetDll())!,
        };
        foreach (var (key, value) in Settings.Where(s => s.Key != "urls"))
        {
            start.Environment[key.Replace(":", "__", StringComparison.Ordinal)] = value;
        }

        start.Environment["AlertNet__Role"] = "worker";
        foreach (var (key, value) in overrides ?? new Dictionary<string, string?>())
        {
            start.Environment[key.Replace(":", "__", StringComparison.Ordinal)] = value;
        }

        var process = Process.Start(start)!;
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) _workerOutput.Enqueue(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) _workerOutput.Enqueue(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _workers.Add(process);
    }

    /// <summary>Runs the AlertNet executable with arguments (a command-line verb) against this app's
    /// database and keys, as an administrator would, and returns its exit code, output and errors.</summary>
    public Task<(int ExitCode, string Output, string Errors)> RunCommandAsync(params string[] arguments) =>
        RunCommandWithInputAsync(null, arguments);

    /// <summary>As <see cref="RunCommandAsync"/>, with <paramref name="input"/> typed on standard input.</summary>
    public async Task<(int ExitCode, string Output, string Errors)> RunCommandWithInputAsync(string? input, params string[] arguments)
    {
        var start = new ProcessStartInfo("dotnet", [AlertNetDll(), .. arguments])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
        };
        foreach (var (key, value) in Settings.Where(s => s.Key != "urls"))
        {
            start.Environment[key.Replace(":", "__", StringComparison.Ordinal)] = value;
        }

        start.Environment["Logging__LogLevel__Default"] = "Warning";
        using var process = Process.Start(start)!;
        if (input is not null)
        {
            await process.StandardInput.WriteLineAsync(input);
        }

        process.StandardInput.Close();
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, await output, await errors);
    }

    /// <summary>SIGKILL, as a crash or an out-of-memory kill would: no shutdown, no clean-up.</summary>
    public void KillWorkerProcesses()
    {
        foreach (var worker in _workers.Where(w => !w.HasExited))
        {
            worker.Kill(entireProcessTree: true);
            worker.WaitForExit();
        }
    }

    /// <summary>SIGKILLs the longest-running live worker process (a crash: no shutdown, no clean-up).</summary>
    public void KillOneWorkerProcess()
    {
        var worker = _workers.First(w => !w.HasExited);
        worker.Kill(entireProcessTree: true);
        worker.WaitForExit();
    }

    /// <summary>Waits until this many worker processes have registered their Hangfire servers (two each: the
    /// urgent and bulk lanes). Only meaningful before any worker was killed: a killed one's rows stay a while.</summary>
    public async Task WaitForWorkerProcessesAsync(int processes)
    {
        await using var connection = await Db.OpenConnectionAsync();
        await Eventually.ValueAsync(() => Dapper.SqlMapper.ExecuteScalarAsync<int>(connection, "SELECT count(*) FROM hangfire.server"),
            servers => servers >= 2 * processes, TimeSpan.FromSeconds(90),
            () => "the worker processes to start. Output:\n" + string.Join('\n', WorkerOutput));
    }

    /// <summary>SIGTERM, as an orchestrator stopping a worker would; waits for each to exit and returns their exit codes.</summary>
    public async Task<int[]> TerminateWorkerProcessesAsync()
    {
        var running = _workers.Where(w => !w.HasExited).ToList();
        foreach (var worker in running)
        {
            using var kill = Process.Start("kill", ["-TERM", worker.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])!;
            await kill.WaitForExitAsync();
        }

        foreach (var worker in running)
        {
            await worker.WaitForExitAsync();
        }

        return running.Select(w => w.ExitCode).ToArray();
    }

    public static string AlertNetDll()
    {
        var configuration = typeof(AlertNetTestApp).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration ?? "Debug";
        return Path.Combine(TestCluster.RepoRoot, "src", "AlertNet", "bin", configuration, "net10.0", "AlertNet.dll");
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var worker in _workers)
        {
            if (!worker.HasExited)
            {
                worker.Kill(entireProcessTree: true);
                await worker.WaitForExitAsync();
            }

            worker.Dispose();
        }

        await _app.StopAsync();
        await _app.DisposeAsync();
        Http.Dispose();
        if (_ownsDatabase)
        {
            await TestCluster.DropDatabaseAsync(ConnectionString);
        }
    }

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
