using System.Text.Json;
using System.Threading.Channels;
using Dapper;
using Npgsql;

namespace AlertNet.Dashboard;

/// <summary>One poller per watched alert, however many people watch it: it reads the dashboard about once a second
/// while the alert is moving and hands each change to every subscriber (a slow one gets the newest, never a
/// backlog). A cheap look at the alert's state and latest delivery update decides whether the full dashboard query
/// is needed; it runs at least every few seconds regardless, since a transaction that started earlier can commit
/// an older updated_at. The poller stops when the alert is settled or its last subscriber leaves.</summary>
public sealed class DashboardPoller(Mediator.IMediator mediator, NpgsqlDataSource db, IHostApplicationLifetime lifetime,
    ILogger<DashboardPoller> logger)
{
    private readonly Dictionary<long, AlertWatch> _watches = [];
    private readonly Lock _lock = new();
    private readonly Mediator.IMediator _mediator = mediator;
    private readonly NpgsqlDataSource _db = db;
    private readonly IHostApplicationLifetime _lifetime = lifetime;
    private readonly ILogger<DashboardPoller> _logger = logger;

    public TimeSpan Interval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Full refresh at least this often, even when nothing seems to have changed.</summary>
    public TimeSpan ForcedRefresh { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>How many alerts are being polled now (one each, whatever the number of watchers).</summary>
    public int ActivePollers
    {
        get
        {
            lock (_lock)
            {
                return _watches.Count;
            }
        }
    }

    /// <summary>Dashboards of one alert as they change: the current one at once, then each change; the reader
    /// completes when the alert is settled (or no longer exists). Dispose to stop watching.</summary>
    public Subscription Subscribe(long alertId)
    {
        var channel = Channel.CreateBounded<AlertDashboard>(new BoundedChannelOptions(1)
        {
            FullMode = BoundedChannelFullMode.DropOldest,
            SingleReader = true,
        });
        lock (_lock)
        {
            if (!_watches.TryGetValue(alertId, out var watch))
            {
                watch = new AlertWatch(alertId, this);
                _watches[alertId] = watch;
                watch.Start();
            }

            watch.Add(channel);
            return new Subscription(channel.Reader, () => Leave(watch, channel));
        }
    }

    private void Leave(AlertWatch watch, Channel<AlertDashboard> channel)
    {
        lock (_lock)
        {
            if (watch.Remove(channel) == 0 && _watches.GetValueOrDefault(watch.AlertId) == watch)
            {
                _watches.Remove(watch.AlertId);
                watch.Stop();
            }
        }
    }

    private void Finished(AlertWatch watch)
    {
        lock (_lock)
        {
            if (_watches.GetValueOrDefault(watch.AlertId) == watch)
            {
                _watches.Remove(watch.AlertId);
            }

            watch.CompleteAll();
        }
    }

    public sealed class Subscription(ChannelReader<AlertDashboard> reader, Action leave) : IDisposable
    {
        private int _disposed;

        public ChannelReader<AlertDashboard> Reader { get; } = reader;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                leave();
            }
        }
    }

    /// <summary>The poll loop of one alert and its subscribers. Subscriber changes happen under the poller's lock.</summary>
    private sealed class AlertWatch(long alertId, DashboardPoller poller)
    {
        private readonly List<Channel<AlertDashboard>> _subscribers = [];
        private readonly CancellationTokenSource _stop = CancellationTokenSource.CreateLinkedTokenSource(poller._lifetime.ApplicationStopping);
        private AlertDashboard? _latest;

        public long AlertId => alertId;

        public void Start() => _ = Task.Run(RunAsync);

        public void Stop() => _stop.Cancel();

        public void Add(Channel<AlertDashboard> channel)
        {
            _subscribers.Add(channel);
            if (Volatile.Read(ref _latest) is { } latest)
            {
                channel.Writer.TryWrite(latest);
            }
        }

        public int Remove(Channel<AlertDashboard> channel)
        {
            _subscribers.Remove(channel);
            channel.Writer.TryComplete();
            return _subscribers.Count;
        }

        public void CompleteAll()
        {
            foreach (var channel in _subscribers)
            {
                channel.Writer.TryComplete();
            }
        }

        private async Task RunAsync()
        {
            string? lastJson = null;
            (string? State, DateTime? Updated) lastFingerprint = (null, null);
            var lastFull = DateTime.MinValue;
            try
            {
                while (!_stop.IsCancellationRequested)
                {
                    try
                    {
                        var fingerprint = await FingerprintAsync(_stop.Token);
                        if (fingerprint != lastFingerprint || DateTime.UtcNow - lastFull >= poller.ForcedRefresh)
                        {
                            lastFingerprint = fingerprint;
                            lastFull = DateTime.UtcNow;
                            var dashboard = await poller._mediator.Send(new GetAlertDashboard(alertId), _stop.Token);
                            if (dashboard is null)
                            {
                                break;
                            }

                            var json = JsonSerializer.Serialize(dashboard);
                            if (json != lastJson)
                            {
                                lastJson = json;
                                Publish(dashboard);
                            }

                            if (dashboard.Settled)
                            {
                                break;
                            }
                        }
                    }
                    catch (NpgsqlException error)
                    {
                        // The database may be restarting: keep the last dashboard and try again next tick.
                        poller._logger.LogWarning("Dashboard of alert {AlertId} could not be read: {SqlState}", alertId, error.SqlState);
                    }
                    catch (Exception error) when (error is not OperationCanceledException)
                    {
                        poller._logger.LogError(error, "Dashboard of alert {AlertId} failed; its watchers are let go", alertId);
                        break;
                    }

                    await Task.Delay(poller.Interval, _stop.Token);
                }
            }
            catch (OperationCanceledException) when (_stop.IsCancellationRequested)
            {
                // Nobody is watching any more, or the application is stopping.
            }
            finally
            {
                poller.Finished(this);
                _stop.Dispose();
            }
        }

        private void Publish(AlertDashboard dashboard)
        {
            lock (poller._lock)
            {
                Volatile.Write(ref _latest, dashboard);
                foreach (var channel in _subscribers)
                {
                    channel.Writer.TryWrite(dashboard);
                }
            }
        }

        private async Task<(string?, DateTime?)> FingerprintAsync(CancellationToken cancellationToken)
        {
            await using var connection = await poller._db.OpenConnectionAsync(cancellationToken);
            // Served by deliveries_alert_progress (alert_id, updated_at): one index entry, whatever the alert's size.
            return await connection.QuerySingleOrDefaultAsync<(string?, DateTime?)>(new CommandDefinition(
                "SELECT state, (SELECT max(updated_at) FROM deliveries WHERE alert_id = @alertId) FROM alerts WHERE id = @alertId",
                new { alertId }, cancellationToken: cancellationToken));
        }
    }
}
