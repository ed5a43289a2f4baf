using Hangfire;
using Hangfire.Storage;
using Microsoft.Extensions.Options;

namespace AlertNet.Infrastructure.Jobs;

/// <summary>A recurring job every AlertNet process makes sure is registered with Hangfire (the retention run, say).</summary>
public interface IRecurringJobDefinition
{
    string Id { get; }

    /// <summary>Whether Hangfire already has this job as it should be (then nothing is written and no lock is taken).</summary>
    bool IsRegisteredAs(RecurringJobDto existing);

    void AddOrUpdate(IRecurringJobManager recurring);
}

/// <summary>Registers the recurring jobs from the background, never during start-up, and never lets a failure end the
/// process. Hangfire's AddOrUpdate takes the distributed lock <c>lock:recurring-job:&lt;id&gt;</c> and throws after 15 s
/// when it cannot get it; a process SIGKILLed while holding it leaves the lock row behind (until
/// Jobs:DistributedLockTimeoutSeconds), and when registration was a start-up step every process started meanwhile
/// failed and exited. Here a try that fails is repeated after a pause until it succeeds, while the process works.
/// A job already registered as it should be is only read: a start takes no lock at all.</summary>
public sealed class RecurringJobRegistration(
    IEnumerable<IRecurringJobDefinition> definitions,
    JobStorage storage,
    IRecurringJobManager recurring,
    IOptions<JobsOptions> options,
    ILogger<RecurringJobRegistration> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var pending = definitions.ToList();
        while (pending.Count > 0 && !stoppingToken.IsCancellationRequested)
        {
            foreach (var definition in pending.ToList())
            {
                try
                {
                    // Hangfire's storage API is synchronous (and AddOrUpdate may wait 15 s for its lock): off the start-up path.
                    await Task.Run(() => Register(definition), stoppingToken);
                    pending.Remove(definition);
                }
                catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
                {
                    return;
                }
                catch (Exception error)
                {
                    logger.LogWarning("Recurring job {RecurringJobId} not registered yet ({Error}); trying again in {Seconds} s",
                        definition.Id, error.GetType().Name, options.Value.RecurringJobRetrySeconds);
                }
            }

            if (pending.Count > 0)
            {
                try
                {
                    await Task.Delay(TimeSpan.FromSeconds(options.Value.RecurringJobRetrySeconds), stoppingToken);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    private void Register(IRecurringJobDefinition definition)
    {
        using (var connection = storage.GetConnection())
        {
            if (connection.GetRecurringJobs([definition.Id]).FirstOrDefault() is { Removed: false } existing && definition.IsRegisteredAs(existing))
            {
                return;
            }
        }

        definition.AddOrUpdate(recurring);
        logger.LogInformation("Recurring job {RecurringJobId} registered", definition.Id);
    }
}
