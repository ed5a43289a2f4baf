using System.Diagnostics.Metrics;
using System.Threading.RateLimiting;
using Dapper;
using Microsoft.Extensions.Options;
using Npgsql;

namespace AlertNet.Carrier;

/// <summary>Messages still held at the provider: those AlertNet knows are final and waits to delete, and those still on
/// their way (no final status yet).</summary>
public sealed record ProviderRecords(long AwaitingDeletion, long InFlight);

/// <summary>Deletes messages at the provider so that its message log (kept 13 months, then archived, and open to a
/// subpoena or to whoever holds the credentials) does not keep who received or sent what. Outbound messages are queued
/// here when they reach a final state, inbound messages once processed, test sends when sent. Deletions run in the
/// background in worker processes, a batch at a time, paced (<see cref="CarrierOptions.DeletesPerSecond"/>, few in
/// flight) so they never hold up a send, and retried with backoff: soon on 429, 5xx and outages, later while the
/// provider says the message is not final yet (Twilio 20009, which can last days when a carrier never sends a receipt).
/// A 404 counts as done. Once confirmed, the SID is forgotten.</summary>
public sealed class ProviderDeletions : BackgroundService
{
    public const string Delivery = "delivery";
    public const string Reply = "reply";
    public const string Inbound = "inbound";
    public const string TestSend = "test";

    private const int BatchSize = 100;
    private static readonly TimeSpan QuietPoll = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan CountCacheTime = TimeSpan.FromSeconds(5);

    private readonly NpgsqlDataSource _db;
    private readonly CarrierClient _carrier;
    private readonly CarrierOptions _options;
    private readonly ILogger<ProviderDeletions> _logger;
    private readonly Counter<long> _deleted;
    private readonly Lock _countLock = new();
    private (DateTime At, ProviderRecords? Value) _cached = (DateTime.MinValue, null);

    public ProviderDeletions(NpgsqlDataSource db, CarrierClient carrier, IOptions<CarrierOptions> options, IMeterFactory meters,
        ILogger<ProviderDeletions> logger)
    {
        _db = db;
        _carrier = carrier;
        _options = options.Value;
        _logger = logger;
        var meter = meters.Create(Infrastructure.Telemetry.AlertNetMetrics.MeterName);
        _deleted = meter.CreateCounter<long>("alertnet.provider.deleted", "{message}", "Messages deleted at the provider by this process");
        meter.CreateObservableGauge("alertnet.provider.messages_held", ObserveHeld, "{message}",
            "Messages still held at the provider: state=final (waiting to be deleted) or in_flight (no final status yet); database-wide");
    }

    /// <summary>Queues SIDs for deletion, in the caller's transaction. <paramref name="delay"/> holds a message back, for
    /// one that is probably not final yet (a test send).</summary>
    public static Task QueueAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, IReadOnlyCollection<string> sids, string kind,
        CancellationToken cancellationToken, TimeSpan? delay = null) =>
        sids.Count == 0
            ? Task.CompletedTask
            : connection.ExecuteAsync(new CommandDefinition(
                """
                INSERT INTO carrier_deletions (sid, kind, due_at)
                SELECT DISTINCT s, @kind, now() + @delay FROM unnest(@sids) AS s WHERE s <> '' ORDER BY s
                ON CONFLICT (sid) DO NOTHING
                """,
                new { sids = sids.ToArray(), kind, delay = delay ?? TimeSpan.Zero }, transaction, cancellationToken: cancellationToken));

    /// <summary>Which of these provider SIDs AlertNet already knows as one of its messages (a delivery on its way, or any
    /// message queued for deletion: final deliveries, replies, test sends, inbound texts): a reconcile never adopts those.</summary>
    public static async Task<IReadOnlySet<string>> KnownAsync(NpgsqlDataSource db, IReadOnlyCollection<string> sids)
    {
        await using var connection = await db.OpenConnectionAsync(CancellationToken.None);
        return (await connection.QueryAsync<string>(
            """
            SELECT twilio_sid FROM deliveries WHERE twilio_sid = ANY(@sids)
            UNION SELECT sid FROM carrier_deletions WHERE sid = ANY(@sids)
            """,
            new { sids = sids.ToArray() })).ToHashSet(StringComparer.Ordinal);
    }

    /// <summary>A reply or test send the provider reports final: delete it now rather than at its scheduled time. The
    /// callback can come before AlertNet has recorded the provider's answer to the send (and queued the SID itself), so it
    /// queues the SID if it is not there yet; the later queueing then finds it and changes nothing. Only signed callbacks
    /// of AlertNet's own messages get here.</summary>
    public async Task DueNowAsync(string sid, string kind, CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(sid) || sid.Length > 64)
        {
            return;
        }

        await using var connection = await _db.OpenConnectionAsync(cancellationToken);
        await connection.ExecuteAsync(new CommandDefinition(
            """
            INSERT INTO carrier_deletions (sid, kind, due_at) VALUES (@sid, @kind, now())
            ON CONFLICT (sid) DO UPDATE SET due_at = now() WHERE carrier_deletions.due_at > now()
            """,
            new { sid, kind }, cancellationToken: cancellationToken));
    }

    /// <summary>What is still at the provider, for the overview and the metric.</summary>
    public async Task<ProviderRecords> CountAsync(CancellationToken cancellationToken)
    {
        await using var connection = await _db.OpenConnectionAsync(cancellationToken);
        return await connection.QuerySingleAsync<ProviderRecords>(new CommandDefinition(
            """
            SELECT (SELECT count(*) FROM carrier_deletions) AS awaitingdeletion,
                   (SELECT count(*) FROM deliveries WHERE state IN ('sending', 'accepted', 'sent') AND twilio_sid IS NOT NULL) AS inflight
            """,
            cancellationToken: cancellationToken));
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var limiter = CreateLimiter(_options.DeletesPerSecond);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                var worked = await DeleteDueAsync(limiter, stoppingToken);
                if (!worked)
                {
                    await Task.Delay(_carrier.Circuit.RetryAfter > QuietPoll ? _carrier.Circuit.RetryAfter : QuietPoll, stoppingToken);
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception error)
            {
                // Nothing here may end the process: the database or the provider may be down. Try again shortly.
                _logger.LogWarning("Deleting messages at the provider failed: {Error}", error.GetType().Name);
                await Task.Delay(TimeSpan.FromSeconds(5), stoppingToken).ContinueWith(static _ => { }, TaskScheduler.Default);
            }
        }
    }

    /// <summary>Claims a batch of due deletions (every worker process takes its own), deletes each at the provider and
    /// writes the outcomes back in one statement. False when there was nothing to do.</summary>
    public async Task<bool> DeleteDueAsync(RateLimiter limiter, CancellationToken cancellationToken)
    {
        if (_carrier.Circuit.RetryAfter > TimeSpan.Zero)
        {
            return false;
        }

        await using var connection = await _db.OpenConnectionAsync(cancellationToken);
        var due = (await connection.QueryAsync<(string Sid, int Attempts)>(new CommandDefinition(
            """
            UPDATE carrier_deletions SET due_at = now() + interval '2 minutes', attempts = attempts + 1
            WHERE sid IN (SELECT sid FROM carrier_deletions WHERE due_at <= now() ORDER BY due_at LIMIT @batch FOR UPDATE SKIP LOCKED)
            RETURNING sid, attempts
            """,
            new { batch = BatchSize }, cancellationToken: cancellationToken))).ToList();
        if (due.Count == 0)
        {
            return false;
        }

        var outcomes = new System.Collections.Concurrent.ConcurrentBag<(string Sid, double RetryInSeconds, int? Code)>();
        var failures = new System.Collections.Concurrent.ConcurrentBag<CarrierFailure>();
        if (!_options.DeleteMessages)
        {
            // Deletion turned off: forget the SIDs instead of keeping them.
            due.ForEach(d => outcomes.Add((d.Sid, -1, null)));
        }
        else
        {
            await Parallel.ForEachAsync(due, new ParallelOptions { MaxDegreeOfParallelism = _options.DeleteConcurrency, CancellationToken = cancellationToken },
                async (item, ct) =>
                {
                    using var lease = await limiter.AcquireAsync(1, ct);
                    try
                    {
                        outcomes.Add(await _carrier.DeleteAsync(item.Sid)
                            ? (item.Sid, -1, null)
                            : (item.Sid, Backoff(item.Attempts, TimeSpan.FromSeconds(30), TimeSpan.FromHours(6)), CarrierClient.NotYetFinal));
                    }
                    catch (CarrierException error)
                    {
                        failures.Add(error.Failure);
                        var retry = error.Failure == CarrierFailure.Refused
                            ? Backoff(item.Attempts, TimeSpan.FromMinutes(5), TimeSpan.FromHours(6))
                            : Math.Max(_carrier.Circuit.RetryAfter.TotalSeconds, Backoff(item.Attempts, TimeSpan.FromSeconds(1), TimeSpan.FromMinutes(1)));
                        outcomes.Add((item.Sid, retry, error.Code == 0 ? error.HttpStatus : error.Code));
                    }
                });
        }

        var done = outcomes.Where(o => o.RetryInSeconds < 0).Select(o => o.Sid).ToArray();
        if (!failures.IsEmpty)
        {
            _logger.LogInformation("Deleting {Count} messages at the provider: {Failed} to try again ({Failures})", due.Count, failures.Count,
                string.Join(", ", failures.GroupBy(f => f).Select(g => $"{g.Key} {g.Count()}")));
        }

        var later = outcomes.Where(o => o.RetryInSeconds >= 0).OrderBy(o => o.Sid, StringComparer.Ordinal).ToList();
        await connection.ExecuteAsync(new CommandDefinition(
            """
            DELETE FROM carrier_deletions WHERE sid = ANY(@done);
            UPDATE carrier_deletions d SET due_at = now() + make_interval(secs => r.retry), last_code = r.code
            FROM unnest(@sids, @retries, @codes) AS r (sid, retry, code) WHERE d.sid = r.sid;
            """,
            new
            {
                done,
                sids = later.Select(l => l.Sid).ToArray(),
                retries = later.Select(l => l.RetryInSeconds).ToArray(),
                codes = later.Select(l => l.Code).ToArray(),
            },
            cancellationToken: CancellationToken.None));
        _deleted.Add(done.Length);
        return true;
    }

    /// <summary>The limiter that paces deletions: tokens every tenth of a second at high rates, one token per 1/rate
    /// seconds below ten a second.</summary>
    public static TokenBucketRateLimiter CreateLimiter(double perSecond)
    {
        var (tokens, period) = perSecond >= 10
            ? ((int)Math.Round(perSecond / 10), TimeSpan.FromMilliseconds(100))
            : (1, TimeSpan.FromSeconds(1 / perSecond));
        return new TokenBucketRateLimiter(new TokenBucketRateLimiterOptions
        {
            TokenLimit = tokens,
            TokensPerPeriod = tokens,
            ReplenishmentPeriod = period,
            QueueLimit = int.MaxValue,
            QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
            AutoReplenishment = true,
        });
    }

    private static double Backoff(int attempts, TimeSpan first, TimeSpan max) =>
        Math.Min(max.TotalSeconds, first.TotalSeconds * Math.Pow(2, Math.Min(attempts - 1, 20)));

    private IEnumerable<Measurement<long>> ObserveHeld()
    {
        lock (_countLock)
        {
            if (DateTime.UtcNow - _cached.At >= CountCacheTime)
            {
                try
                {
                    _cached = (DateTime.UtcNow, CountAsync(CancellationToken.None).GetAwaiter().GetResult());
                }
                catch (Exception error) when (error is NpgsqlException or TimeoutException)
                {
                    _logger.LogWarning("Provider message count unavailable: {Error}", error.GetType().Name);
                    _cached = (DateTime.UtcNow, null);
                }
            }

            return _cached.Value is { } held
                ? [new(held.AwaitingDeletion, new KeyValuePair<string, object?>("state", "final")),
                   new(held.InFlight, new KeyValuePair<string, object?>("state", "in_flight"))]
                : [];
        }
    }
}
