using AlertNet.Infrastructure.Auth;
using AlertNet.Tests.Support;
using Dapper;

namespace AlertNet.Tests.EndToEnd;

/// <summary>AlertNet split into roles: a web process that only serves HTTP, and separate worker
/// processes (real OS processes) that share the Hangfire jobs against the same database.</summary>
public sealed class WorkerProcessTests : IAsyncLifetime
{
    private AlertNetTestApp _web = null!;

    public async Task InitializeAsync() => _web = await AlertNetTestApp.StartAsync(role: "web", new Dictionary<string, string?>
    {
        // Small batches and a throttle that make the alert last a few seconds, and more batch jobs than one
        // process has urgent workers (12): Hangfire wakes the enqueuing process's own workers at once, so with
        // fewer jobs the process that dispatched the alert could take every one of them and the other none.
        ["Delivery:BatchSize"] = "10",
        ["Delivery:SegmentsPerSecond"] = "60",
        ["Delivery:ParallelBatchJobs"] = "30",
    });

    public async Task DisposeAsync() => await _web.DisposeAsync();

    [Fact]
    public async Task Two_worker_processes_send_each_delivery_exactly_once()
    {
        var numbers = AlertNetTestApp.Numbers(300, first: 1000);
        await _web.JoinAllAsync(numbers);

        _web.StartWorkerProcess();
        _web.StartWorkerProcess();
        await using (var connection = await _web.Db.OpenConnectionAsync())
        {
            // Each worker process runs two Hangfire servers (urgent and bulk lanes).
            await Eventually.ValueAsync(() => connection.ExecuteScalarAsync<int>("SELECT count(*) FROM hangfire.server"), servers => servers == 4,
                TimeSpan.FromSeconds(60), () => "both worker processes to start. Output:\n" + string.Join('\n', _web.WorkerOutput));
        }

        var organizer = await _web.ClientWithRoleAsync(Roles.Organizer);
        var id = await AlertNetTestApp.TriggerAlertAsync(organizer, new { type = "urgent", bodies = new { en = "Raid reported downtown" } });

        var alert = await AlertNetTestApp.WaitUntilSettledAsync(organizer, id, numbers.Length, TimeSpan.FromSeconds(90));

        Assert.Equal(numbers.Length, alert.GetProperty("counts").GetProperty("delivered").GetInt32());
        Assert.All(numbers, number => Assert.Equal(1, _web.Carrier.AlertCountTo(number)));
        // No resend either: one accepted alert message per number (the JOIN replies are messages of their own).
        Assert.Equal(numbers.Length, _web.Carrier.AlertMessages().Count);
        // Both processes did part of the work: Hangfire's server ids, recorded on each job it ran, carry the pid.
        await using var db = await _web.Db.OpenConnectionAsync();
        var servers = (await db.QueryAsync<string>(
            """
            SELECT DISTINCT s.data::json ->> 'ServerId'
            FROM hangfire.state s JOIN hangfire.job j ON j.id = s.jobid
            WHERE s.name = 'Processing' AND j.invocationdata::json ->> 'Type' LIKE '%SendDeliveriesJob%'
            """)).ToList();
        Assert.All(_web.WorkerProcessIds, pid => Assert.Contains(servers, server => server.Contains($":{pid}:", StringComparison.Ordinal)));
    }
}
