using AlertNet.Hosting;
using AlertNet.Infrastructure.Auth;
using AlertNet.Infrastructure.Database;
using Hangfire;
using Hangfire.PostgreSql;

namespace AlertNet.Infrastructure.Jobs;

public static class JobsSetup
{
    public const string SchemaName = "hangfire";

    public static IServiceCollection AddAlertNetJobs(this IServiceCollection services, IConfiguration configuration, AlertNetOptions options)
    {
        services.AddOptions<JobsOptions>().BindConfiguration(JobsOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddHostedService<RecurringJobRegistration>();
        var jobsOptions = configuration.GetSection(JobsOptions.Section).Get<JobsOptions>() ?? new JobsOptions();
        var storageOptions = new PostgreSqlStorageOptions
        {
            SchemaName = SchemaName,
            PrepareSchemaIfNecessary = true,
            // The default 15 s poll would put urgent alerts 15 s behind a web-only process's Send.
            QueuePollInterval = TimeSpan.FromMilliseconds(200),
            UseSlidingInvisibilityTimeout = true,
            InvisibilityTimeout = TimeSpan.FromMinutes(5),
            // A lock row is removed only once older than this, when someone asks for the lock: a process killed while
            // holding one (recurring-jobs, schedulepoller, ...) blocks the others this long. The default is 10 minutes.
            DistributedLockTimeout = TimeSpan.FromSeconds(Math.Clamp(jobsOptions.DistributedLockTimeoutSeconds, 10, 3600)),
        };
        services.AddHangfire(config => config
            .SetDataCompatibilityLevel(CompatibilityLevel.Version_180)
            .UseSimpleAssemblyNameTypeSerializer()
            .UseRecommendedSerializerSettings()
            .UsePostgreSqlStorage(c => c.UseNpgsqlConnection(DatabaseSetup.ConnectionString(configuration)), storageOptions));

        if (options.RunsWorker)
        {
            services.AddHangfireServer(server =>
            {
                server.ServerName = $"{Environment.MachineName}:urgent";
                server.Queues = [Lanes.Urgent];
                // One alert's batch jobs (Delivery:ParallelBatchJobs) must leave workers free for the next alert.
                server.WorkerCount = 12;
                // Retries and follow-ups are scheduled jobs: check for due ones every second, not every 15 s.
                server.SchedulePollingInterval = TimeSpan.FromSeconds(1);
            });
            services.AddHangfireServer(server =>
            {
                server.ServerName = $"{Environment.MachineName}:bulk";
                server.Queues = [Lanes.Bulk, "default"];
                server.SchedulePollingInterval = TimeSpan.FromSeconds(1);
                server.WorkerCount = Math.Max(2, Environment.ProcessorCount);
            });
        }

        return services;
    }

    /// <summary>The Hangfire dashboard at /jobs, for admins signed in to the web app only (the policy, not
    /// Hangfire's own filters, decides; the connection string is never shown).</summary>
    public static void MapJobsDashboard(this WebApplication app) =>
        app.MapHangfireDashboardWithAuthorizationPolicy(Policies.JobsDashboard, "/jobs", new DashboardOptions
        {
            Authorization = [],
            AppPath = "/",
            DashboardTitle = "AlertNet jobs",
            DisplayStorageConnectionString = false,
        });
}
