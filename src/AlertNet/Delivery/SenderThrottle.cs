using System.Collections.Concurrent;
using AlertNet.Infrastructure.Twilio;
using Dapper;
using Microsoft.Extensions.Options;
using Npgsql;

namespace AlertNet.Delivery;

/// <summary>Keeps every worker process together to the sender's throughput, in segments per second
/// (what Twilio counts). Time is reserved in small slices from a row in PostgreSQL, the one place all
/// processes share; within a slice a process sends at once. Urgent sends are paced against each other
/// only and push bulk sends back, so an alert never queues behind a campaign, here or at Twilio.</summary>
public sealed class SenderThrottle(NpgsqlDataSource db, TwilioSettings twilio, IOptions<DeliveryOptions> options)
{
    private readonly ConcurrentDictionary<bool, Allowance> _allowances = new();

    public bool Enabled => options.Value.SegmentsPerSecond > 0;

    public string Sender => twilio.MessagingServiceSid ?? twilio.From ?? "default";

    /// <summary>Waits until <paramref name="segments"/> may be sent.</summary>
    public async ValueTask WaitAsync(int segments, bool urgent, CancellationToken cancellationToken)
    {
        if (!Enabled)
        {
            return;
        }

        var allowance = _allowances.GetOrAdd(urgent, _ => new Allowance());
        await allowance.Gate.WaitAsync(cancellationToken);
        try
        {
            while (allowance.Segments < segments)
            {
                var rate = options.Value.SegmentsPerSecond;
                // A tenth of a second's worth at a time: small enough to stay within a few per cent of
                // the rate over any few seconds, large enough that the database sees ten reservations a second.
                var slice = Math.Max(segments - allowance.Segments, (int)Math.Ceiling(rate / 10));
                var wait = await ReserveAsync(slice, slice / rate, urgent, cancellationToken);
                if (wait > TimeSpan.Zero)
                {
                    await Task.Delay(wait, cancellationToken);
                }

                allowance.Segments += slice;
            }

            allowance.Segments -= segments;
        }
        finally
        {
            allowance.Gate.Release();
        }
    }

    /// <summary>Estimated time to send <paramref name="segments"/> at the configured rate; zero when unthrottled.</summary>
    public TimeSpan EstimatedDuration(long segments) =>
        Enabled ? TimeSpan.FromSeconds(segments / options.Value.SegmentsPerSecond) : TimeSpan.Zero;

    private async Task<TimeSpan> ReserveAsync(int segments, double seconds, bool urgent, CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        var waitSeconds = await connection.ExecuteScalarAsync<double>(new CommandDefinition(
            urgent ? ReserveUrgentSql : ReserveBulkSql, new { sender = Sender, seconds }, cancellationToken: cancellationToken));
        return TimeSpan.FromSeconds(Math.Max(0, waitSeconds));
    }

    private const string ReserveUrgentSql =
        """
        INSERT INTO sender_throttle AS t (sender, next_free_at, urgent_next_at)
        VALUES (@sender, clock_timestamp() + make_interval(secs => @seconds), clock_timestamp() + make_interval(secs => @seconds))
        ON CONFLICT (sender) DO UPDATE
            SET urgent_next_at = greatest(t.urgent_next_at, clock_timestamp()) + make_interval(secs => @seconds),
                next_free_at = greatest(t.next_free_at, clock_timestamp()) + make_interval(secs => @seconds)
        RETURNING extract(epoch FROM t.urgent_next_at - make_interval(secs => @seconds) - clock_timestamp())::float8
        """;

    private const string ReserveBulkSql =
        """
        INSERT INTO sender_throttle AS t (sender, next_free_at, urgent_next_at)
        VALUES (@sender, clock_timestamp() + make_interval(secs => @seconds), '-infinity')
        ON CONFLICT (sender) DO UPDATE
            SET next_free_at = greatest(t.next_free_at, t.urgent_next_at, clock_timestamp()) + make_interval(secs => @seconds)
        RETURNING extract(epoch FROM t.next_free_at - make_interval(secs => @seconds) - clock_timestamp())::float8
        """;

    private sealed class Allowance
    {
        public SemaphoreSlim Gate { get; } = new(1, 1);

        public int Segments { get; set; }
    }
}
