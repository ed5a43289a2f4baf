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
        services.AddSingleton(sp => CreateProtector(
            sp.GetRequiredService<IOptions<AlertNetOptions>>().Value,
            sp.GetRequiredService<TwilioSettings>()));
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

    /// <summary>Keys come from configuration (AlertNet:EncryptionKey and AlertNet:BlindIndexKey, or
    /// AlertNet:KeyFile), never from the database. Only drill mode may generate them.</summary>
    private static PersonalDataProtector CreateProtector(AlertNetOptions options, TwilioSettings twilio)
    {
        if (!string.IsNullOrEmpty(options.EncryptionKey) && !string.IsNullOrEmpty(options.BlindIndexKey))
        {
            return CreateRing(options.KeyId, options.EncryptionKey, options.BlindIndexKey, options.OldKeys);
        }

        KeyFile keys;
        if (!string.IsNullOrEmpty(options.KeyFile) && File.Exists(options.KeyFile))
        {
            keys = KeyFile.Read(options.KeyFile);
        }
        else if (twilio.IsDrill)
        {
            keys = KeyFile.ReadOrCreateForDrill(options.KeyFile ?? KeyFile.DefaultDrillPath);
        }
        else
        {
            throw new InvalidOperationException(
                "No encryption keys configured: set AlertNet:EncryptionKey and AlertNet:BlindIndexKey, or AlertNet:KeyFile.");
        }

        return CreateRing(keys.KeyId, keys.EncryptionKey, keys.BlindIndexKey, keys.OldKeys ?? []);
    }

    private static PersonalDataProtector CreateRing(int currentId, string encryptionKey, string blindIndexKey,
        Dictionary<string, OldKeyOptions> oldKeys)
    {
        var ring = new Dictionary<int, KeyPair> { [currentId] = new(Convert.FromBase64String(encryptionKey), Convert.FromBase64String(blindIndexKey)) };
        foreach (var (id, old) in oldKeys)
        {
            if (!int.TryParse(id, out var oldId) || oldId == currentId || string.IsNullOrEmpty(old.BlindIndexKey))
            {
                throw new InvalidOperationException(
                    $"AlertNet:OldKeys:{id} needs a numeric id other than the current AlertNet:KeyId ({currentId}) and a BlindIndexKey.");
            }

            ring[oldId] = new(string.IsNullOrEmpty(old.EncryptionKey) ? null : Convert.FromBase64String(old.EncryptionKey),
                Convert.FromBase64String(old.BlindIndexKey));
        }

        return new PersonalDataProtector(currentId, ring);
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
