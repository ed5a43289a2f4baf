using AlertNet.Hosting;
using AlertNet.Infrastructure.Twilio;
using Hangfire;
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
        services.AddHostedService<RetentionSchedule>();
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

    /// <summary>Registers the daily retention run with Hangfire when the process starts.</summary>
    private sealed class RetentionSchedule(IRecurringJobManager recurring, IOptions<PrivacyOptions> options) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken)
        {
            RetentionJob.Schedule(recurring, options.Value);
            return Task.CompletedTask;
        }

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
