using System.Diagnostics.Metrics;
using AlertNet.Delivery;
using Npgsql;

namespace AlertNet.Infrastructure.Telemetry;

/// <summary>AlertNet's own metrics (meter "AlertNet"), exported for Prometheus. Tags are lanes, channels,
/// states and Twilio error codes: closed sets, never a number, a text or an id.</summary>
public sealed class AlertNetMetrics
{
    public const string MeterName = "AlertNet";

    private static readonly TimeSpan QueueDepthCacheTime = TimeSpan.FromSeconds(5);

    private readonly NpgsqlDataSource _db;
    private readonly ILogger<AlertNetMetrics> _logger;
    private readonly Counter<long> _sent;
    private readonly Counter<long> _delivered;
    private readonly Counter<long> _failed;
    private readonly Histogram<double> _triggerToSend;
    private readonly Lock _queueLock = new();
    private (DateTime At, Measurement<long>[] Values) _queueDepth = (DateTime.MinValue, []);

    public AlertNetMetrics(IMeterFactory meters, NpgsqlDataSource db, ILogger<AlertNetMetrics> logger)
    {
        _db = db;
        _logger = logger;
        var meter = meters.Create(MeterName);
        _sent = meter.CreateCounter<long>("alertnet.messages.sent", "{message}", "Messages Twilio accepted");
        _delivered = meter.CreateCounter<long>("alertnet.messages.delivered", "{message}", "Messages the carrier reported delivered");
        _failed = meter.CreateCounter<long>("alertnet.messages.failed", "{message}",
            "Messages that failed or were undelivered, by error class and Twilio error code");
        _triggerToSend = meter.CreateHistogram<double>("alertnet.alert.trigger_to_send", "s",
            "Time from an alert's trigger (or scheduled time) to Twilio accepting each of its messages",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 900] });
        meter.CreateObservableGauge("alertnet.deliveries.queued", ObserveQueueDepth, "{delivery}",
            "Deliveries of alerts in progress not yet handed to Twilio, per lane (database-wide: the same in every process)");
    }

    public void Sent(string lane, string channel, DateTime triggeredAtUtc)
    {
        _sent.Add(1, new KeyValuePair<string, object?>("lane", lane), new KeyValuePair<string, object?>("channel", channel));
        _triggerToSend.Record(Math.Max(0, (DateTime.UtcNow - triggeredAtUtc).TotalSeconds), new KeyValuePair<string, object?>("lane", lane));
    }

    public void Delivered(long count) => _delivered.Add(count);

    public void Failed(int? errorCode, long count = 1) =>
        _failed.Add(count,
            new KeyValuePair<string, object?>("reason", errorCode is { } code ? TwilioErrors.ClassifyCode(code).ToString().ToLowerInvariant() : "unknown"),
            new KeyValuePair<string, object?>("code", errorCode?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "none"));

    /// <summary>Read at each scrape, from the database at most every few seconds (scrapes of several
    /// processes and Prometheus servers must not turn into a query storm).</summary>
    private IEnumerable<Measurement<long>> ObserveQueueDepth()
    {
        lock (_queueLock)
        {
            if (DateTime.UtcNow - _queueDepth.At < QueueDepthCacheTime)
            {
                return _queueDepth.Values;
            }

            try
            {
                var byLane = new Dictionary<string, long> { [Jobs.Lanes.Urgent] = 0, [Jobs.Lanes.Bulk] = 0 };
                using var command = _db.CreateCommand(
                    """
                    SELECT a.type, count(*) FROM alerts a JOIN deliveries d ON d.alert_id = a.id
                    WHERE a.state = 'sending' AND d.state IN ('pending', 'sending') AND d.twilio_sid IS NULL
                    GROUP BY a.type
                    """);
                command.CommandTimeout = 5;
                using (var reader = command.ExecuteReader())
                {
                    while (reader.Read())
                    {
                        byLane[Alerts.AlertType.Lane(reader.GetString(0))] += reader.GetInt64(1);
                    }
                }

                _queueDepth = (DateTime.UtcNow, byLane.Select(l => new Measurement<long>(l.Value, new KeyValuePair<string, object?>("lane", l.Key))).ToArray());
            }
            catch (NpgsqlException error)
            {
                // No value rather than a stale one: Prometheus shows the gap.
                _logger.LogWarning("Queue depth metric unavailable: {Error} {SqlState}", error.GetType().Name, error.SqlState);
                _queueDepth = (DateTime.UtcNow, []);
            }

            return _queueDepth.Values;
        }
    }
}
