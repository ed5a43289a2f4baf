using System.Diagnostics;
using AlertNet.Infrastructure.Auth;

namespace AlertNet.Benchmarks.Chaos;

/// <summary>AlertNet as it is deployed, on this machine: one web process (API, webhooks) and three worker processes
/// (Hangfire servers), each its own <c>dotnet AlertNet.dll</c>, against one PostgreSQL, sending through the
/// emulator in live mode.</summary>
internal sealed class ChaosDeployment : IAsyncDisposable
{
    public const int WorkerCount = 3;

    /// <summary>Recovery settings shorter than the defaults (60 s leases, 15 s sweeps, 30 s stalls, 15 min status
    /// checks), so that a run takes minutes: they change how soon a dead worker's claims are taken over, not
    /// whether they are. Errors only in the output: a chaos run makes thousands of expected warnings.</summary>
    public static readonly IReadOnlyDictionary<string, string?> RecoverySettings = new Dictionary<string, string?>
    {
        ["Delivery:ClaimLeaseSeconds"] = "10",
        ["Delivery:SweepIntervalSeconds"] = "1",
        ["Delivery:StallSeconds"] = "3",
        ["Delivery:StatusCheckSeconds"] = "5",
        ["Logging:LogLevel:Default"] = "Error",
    };

    private readonly AlertNetConfig _config;
    private readonly string _repoRoot;
    private readonly Dictionary<string, string?> _overrides;
    private readonly AlertNetProcess?[] _workers = new AlertNetProcess?[WorkerCount];
    private readonly Task?[] _ready = new Task?[WorkerCount];
    private readonly HashSet<AlertNetProcess> _killed = [];
    private readonly List<string> _startFailures = [];
    private readonly List<TimeSpan> _startTimes = [];
    private int _lastLaunched;

    private ChaosDeployment(AlertNetConfig config, string repoRoot, Dictionary<string, string?> overrides, AlertNetProcess web)
    {
        _config = config;
        _repoRoot = repoRoot;
        _overrides = overrides;
        Web = web;
    }

    public AlertNetProcess Web { get; }

    /// <summary>The worker launched last (the one most likely to be starting now).</summary>
    public int LastLaunched => _lastLaunched;

    /// <summary>Workers that exited by themselves while starting (not killed): a start-up step that failed.</summary>
    public IReadOnlyList<string> StartFailures
    {
        get
        {
            lock (_startFailures)
            {
                return [.. _startFailures];
            }
        }
    }

    /// <summary>How long each worker that was not killed took from launch until /healthz answered.</summary>
    public IReadOnlyList<TimeSpan> StartTimes
    {
        get
        {
            lock (_startTimes)
            {
                return [.. _startTimes];
            }
        }
    }

    /// <summary>Workers whose process has ended although nobody killed it.</summary>
    public int WorkersExitedByThemselves => _workers.Count(w => w is { HasExited: true } && !_killed.Contains(w));

    public static async Task<ChaosDeployment> StartAsync(AlertNetConfig config, string repoRoot, IReadOnlyDictionary<string, string?> settings,
        CancellationToken cancellationToken)
    {
        var overrides = new Dictionary<string, string?>(RecoverySettings);
        foreach (var (key, value) in settings)
        {
            overrides[key] = value;
        }

        // The web process first: it migrates the schema that the workers and the subscriber load need.
        var web = await AlertNetProcess.StartAsync(config, repoRoot, cancellationToken, role: "web", overrides: overrides);
        var deployment = new ChaosDeployment(config, repoRoot, overrides, web);
        for (var i = 0; i < WorkerCount; i++)
        {
            deployment.Launch(i);
        }

        await deployment.WhenRestartedAsync();
        return deployment;
    }

    public static async Task<string> CreateOrganizerTokenAsync(BenchDatabase database, CancellationToken cancellationToken) =>
        await new ApiTokens(database.Db).CreateAsync("chaos", Roles.Organizer, cancellationToken);

    /// <summary>SIGKILLs worker <paramref name="index"/> wherever it is (starting up, or working) and launches its
    /// replacement at once, the way a supervisor would. Returns whether the killed process was still starting.</summary>
    public async Task<bool> KillAndReplaceAsync(int index)
    {
        var starting = _ready[index] is { IsCompleted: false };
        if (_workers[index] is { } worker)
        {
            lock (_killed)
            {
                _killed.Add(worker);
            }

            await worker.KillAsync();
        }

        Launch(index);
        return starting;
    }

    /// <summary>Waits until every current worker is up; throws when one exited by itself while starting.</summary>
    public async Task WhenRestartedAsync()
    {
        await Task.WhenAll(_ready.OfType<Task>());
        if (_workers.Any(w => w is { HasExited: true } && !_killed.Contains(w)))
        {
            throw new InvalidOperationException("A worker exited by itself while starting: " + string.Join("; ", StartFailures));
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await WhenRestartedAsync();
        }
        catch (InvalidOperationException)
        {
            // A replacement that failed to start: nothing to stop.
        }

        foreach (var worker in _workers)
        {
            if (worker is not null)
            {
                await worker.DisposeAsync();
            }
        }

        await Web.DisposeAsync();
    }

    private void Launch(int index)
    {
        var worker = AlertNetProcess.Launch(_config, _repoRoot, role: "worker", publicBaseUrl: Web.BaseUrl, overrides: _overrides);
        _workers[index] = worker;
        _lastLaunched = index;
        _ready[index] = WaitUntilReadyAsync(worker);
    }

    private async Task WaitUntilReadyAsync(AlertNetProcess worker)
    {
        var launched = Stopwatch.GetTimestamp();
        try
        {
            // Not cancellable: a half-started process would outlive the scenario.
            await worker.WaitUntilReadyAsync(CancellationToken.None);
            lock (_startTimes)
            {
                _startTimes.Add(Stopwatch.GetElapsedTime(launched));
            }
        }
        catch (Exception error) when (error is InvalidOperationException or OperationCanceledException)
        {
            bool killed;
            lock (_killed)
            {
                killed = _killed.Contains(worker);
            }

            if (!killed)
            {
                lock (_startFailures)
                {
                    _startFailures.Add($"{error.Message} (after {Format.Seconds(Stopwatch.GetElapsedTime(launched))})");
                }
            }
        }
    }
}
