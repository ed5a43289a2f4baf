using AlertNet.Hosting;
using AlertNet.Infrastructure.Jobs;
using AlertNet.Infrastructure.Twilio;
using Hangfire;
using Hangfire.Storage;
using Microsoft.Extensions.Options;

namespace AlertNet.Privacy;

public static class PrivacySetup
{
    public static IServiceCollection AddAlertNetPrivacy(this IServiceCollection services)
    {
        services.AddOptions<PrivacyOptions>().BindConfiguration(PrivacyOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        // Keys come from configuration or key files, never from the database (KeyCustody). Only drill mode may generate them.
        services.AddSingleton(sp => KeyCustody.Load(
            sp.GetRequiredService<IOptions<AlertNetOptions>>().Value,
            sp.GetRequiredService<TwilioSettings>().IsDrill));
        services.AddHostedService<KeyRingCheck>();
        services.AddSingleton<AuditLog>();
        services.AddSingleton<RetentionJob>();
        services.AddSingleton<PurgeSubscribers>();
        services.AddSingleton<KeyRotation>();
        services.AddSingleton<IRecurringJobDefinition, RetentionSchedule>();
        return services;
    }

    public static IEndpointRouteBuilder MapPrivacy(this IEndpointRouteBuilder app)
    {
        app.MapListAudit();
        app.MapPurgeSubscribers();
        return app;
    }

    /// <summary>Resolved when the process starts, so a live process with missing or drill keys refuses to start, with
    /// the reason, instead of failing at the first text.</summary>
    private sealed class KeyRingCheck(PersonalDataProtector protector) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken)
        {
            _ = protector.CurrentKeyId;
            return Task.CompletedTask;
        }

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }

    /// <summary>The daily retention run, registered with Hangfire by <see cref="RecurringJobRegistration"/> (from the
    /// background: never a start-up step that could wait on a lock).</summary>
    private sealed class RetentionSchedule(IOptions<PrivacyOptions> options) : IRecurringJobDefinition
    {
        public string Id => RetentionJob.RecurringJobId;

        public bool IsRegisteredAs(RecurringJobDto existing) =>
            existing.LoadException is null
            && existing.Job is { } job && job.Type == typeof(RetentionJob) && job.Method.Name == nameof(RetentionJob.RunAsync)
            && job.Args.Count == 1 && job.Queue == Lanes.Bulk
            && string.Equals(existing.Cron, options.Value.RetentionCron, StringComparison.OrdinalIgnoreCase)
            && existing.TimeZoneId == TimeZoneInfo.Utc.Id;

        public void AddOrUpdate(IRecurringJobManager recurring) => RetentionJob.Schedule(recurring, options.Value);
    }
}
