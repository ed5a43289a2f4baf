using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Dapper;
using Npgsql;

namespace AlertNet.Carrier;

/// <summary>A sender the provider has not been answering for, as every process has reported it.</summary>
public sealed record CarrierOutage(string Sender, DateTime DownSince, string? LastFailure)
{
    /// <summary>When it went down, in UTC.</summary>
    public DateTimeOffset DownSinceUtc => new(DateTime.SpecifyKind(DownSince, DateTimeKind.Utc));
}

/// <summary>Whether the provider answers, per sender. Each process's circuits report here when they open or close; the
/// state is kept in PostgreSQL (carrier_status) so that the web process, which may send nothing itself, can tell
/// organizers "Twilio unreachable since 14:03" on the alert page and the overview, and /readyz can say so. The gauge
/// alertnet.carrier.up shows this process's own view.</summary>
public sealed class CarrierHealth(NpgsqlDataSource db, IMeterFactory meters, ILogger<CarrierHealth> logger)
{
    private readonly ConcurrentDictionary<string, CarrierCircuit> _circuits = new(StringComparer.Ordinal);
    private int _gaugeCreated;

    public void Watch(CarrierCircuit circuit)
    {
        _circuits[circuit.Sender] = circuit;
        circuit.Changed += OnChanged;
        if (Interlocked.Exchange(ref _gaugeCreated, 1) == 0)
        {
            meters.Create(Infrastructure.Telemetry.AlertNetMetrics.MeterName).CreateObservableGauge("alertnet.carrier.up",
                () => _circuits.Values.Select(c => new Measurement<int>(c.IsOpen ? 0 : 1, new KeyValuePair<string, object?>("sender", c.SenderLabel))),
                "{sender}", "1 while this process's requests to the provider through the sender succeed, 0 while its circuit is open");
        }
    }

    /// <summary>Senders some process found unreachable and none has found reachable again since.</summary>
    public async Task<IReadOnlyList<CarrierOutage>> OutagesAsync(CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        return (await connection.QueryAsync<CarrierOutage>(new CommandDefinition(
            """
            SELECT sender, down_since AS downsince, last_failure AS lastfailure
            FROM carrier_status WHERE down_since IS NOT NULL ORDER BY down_since
            """,
            cancellationToken: cancellationToken))).ToList();
    }

    private void OnChanged(CarrierCircuit circuit, bool down)
    {
        if (down)
        {
            logger.LogWarning("Provider unreachable through sender {Sender}: {Failure}; sending paused, retried every few seconds",
                circuit.Sender, circuit.LastFailure?.Message);
        }
        else
        {
            logger.LogInformation("Provider reachable again through sender {Sender}; sending resumes", circuit.Sender);
        }

        _ = RecordAsync(circuit.Sender, down ? circuit.DownSince : null, circuit.LastFailure?.Message);
    }

    private async Task RecordAsync(string sender, DateTimeOffset? downSince, string? failure)
    {
        try
        {
            await using var connection = await db.OpenConnectionAsync(CancellationToken.None);
            // The earliest report of an outage wins, so "since" does not move while several processes keep failing;
            // any process that gets through again clears it.
            await connection.ExecuteAsync(
                """
                INSERT INTO carrier_status (sender, down_since, last_failure, updated_at) VALUES (@sender, @downSince, @failure, now())
                ON CONFLICT (sender) DO UPDATE SET
                    down_since = CASE WHEN EXCLUDED.down_since IS NULL THEN NULL
                                      ELSE coalesce(carrier_status.down_since, EXCLUDED.down_since) END,
                    last_failure = EXCLUDED.last_failure, updated_at = now()
                """,
                new { sender, downSince, failure });
        }
        catch (Exception error)
        {
            // The database may be down too; the circuit still works in memory, and the next change records again.
            logger.LogWarning("Could not record the provider's state: {Error}", error.GetType().Name);
        }
    }
}
