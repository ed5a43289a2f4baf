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
    private readonly Task?[] _restarts = new Task?[WorkerCount];
    private readonly long[] _readyAt = new long[WorkerCount];

    private ChaosDeployment(AlertNetConfig config, string repoRoot, Dictionary<string, string?> overrides, AlertNetProcess web)
    {
        _config = config;
        _repoRoot = repoRoot;
        _overrides = overrides;
        Web = web;
    }

    public AlertNetProcess Web { get; }

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
        await Task.WhenAll(Enumerable.Range(0, WorkerCount).Select(i => deployment.StartWorkerAsync(i, cancellationToken)));
        return deployment;
    }

    public static async Task<string> CreateOrganizerTokenAsync(BenchDatabase database, CancellationToken cancellationToken) =>
        await new ApiTokens(database.Db).CreateAsync("chaos", Roles.Organizer, cancellationToken);

    /// <summary>SIGKILLs worker <paramref name="index"/> and starts a new one in its place in the background, the
    /// way a supervisor would. A worker whose replacement is still starting is waited for, and a worker is given at
    /// least <paramref name="minimumUptime"/> of work before it is killed: on a busy machine a start takes longer than
    /// the kill interval, and killing workers as soon as they are up would only measure start-up.</summary>
    public async Task KillAndRestartWorkerAsync(int index, TimeSpan minimumUptime)
    {
        if (_restarts[index] is { } starting)
        {
            await starting;
        }

        var upFor = Stopwatch.GetElapsedTime(_readyAt[index]);
        if (upFor < minimumUptime)
        {
            await Task.Delay(minimumUptime - upFor);
        }

        if (_workers[index] is { } worker)
        {
            _workers[index] = null;
            await worker.KillAsync();
        }

        // Not cancellable: a half-started process would outlive the scenario.
        _restarts[index] = StartWorkerAsync(index, CancellationToken.None);
    }

    /// <summary>Waits for every replacement still starting.</summary>
    public Task WhenRestartedAsync() => Task.WhenAll(_restarts.OfType<Task>());

    public async ValueTask DisposeAsync()
    {
        try
        {
            await WhenRestartedAsync();
        }
        catch (Exception error) when (error is InvalidOperationException or OperationCanceledException)
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

    private async Task StartWorkerAsync(int index, CancellationToken cancellationToken)
    {
        _workers[index] = await AlertNetProcess.StartAsync(_config, _repoRoot, cancellationToken, role: "worker",
            publicBaseUrl: Web.BaseUrl, overrides: _overrides);
        _readyAt[index] = Stopwatch.GetTimestamp();
    }
}
