using Dapper;
using Hangfire;
using Hangfire.States;
using Microsoft.Extensions.Options;
using Npgsql;

namespace AlertNet.Delivery;

/// <summary>A recurring job that restarts work nobody is doing: an alert whose dispatch job was lost
/// between the INSERT and the enqueue, or whose send jobs died with their worker.</summary>
public sealed class DeliverySweeper(NpgsqlDataSource db, IBackgroundJobClient jobs, IOptions<DeliveryOptions> options)
{
    public const string RecurringJobId = "delivery-sweeper";

    [DisableConcurrentExecution(60)]
    [AutomaticRetry(Attempts = 0)]
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        var stuckQueued = await connection.QueryAsync<(long Id, string Type)>(new CommandDefinition(
            "SELECT id, type FROM alerts WHERE state = 'queued' AND created_at < now() - interval '30 seconds'",
            cancellationToken: cancellationToken));
        foreach (var (id, type) in stuckQueued)
        {
            jobs.Create<DispatchAlertJob>(job => job.RunAsync(id, CancellationToken.None), new EnqueuedState(Alerts.AlertType.Lane(type)));
        }

        var stalled = await connection.QueryAsync<(long Id, string Type, long Due)>(new CommandDefinition(
            """
            SELECT a.id, a.type, count(*) AS due
            FROM alerts a JOIN deliveries d ON d.alert_id = a.id
            WHERE a.state = 'sending' AND d.state IN ('pending', 'sending')
              AND (d.claimed_until IS NULL OR d.claimed_until < now())
              -- Only alerts nobody has touched for a while: a busy alert also has unclaimed rows.
              AND NOT EXISTS (SELECT 1 FROM deliveries x WHERE x.alert_id = a.id AND x.updated_at > now() - interval '30 seconds')
            GROUP BY a.id, a.type
            """,
            cancellationToken: cancellationToken));
        foreach (var (id, type, due) in stalled)
        {
            DispatchAlertJob.EnqueueSenders(jobs, id, Alerts.AlertType.Lane(type), due, options.Value);
        }
    }
}
