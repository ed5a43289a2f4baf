using AlertNet.Hosting;
using AlertNet.Infrastructure.Twilio;
using Microsoft.Extensions.Options;

namespace AlertNet.Privacy;

public static class PrivacySetup
{
    public static IServiceCollection AddAlertNetPrivacy(this IServiceCollection services)
    {
        services.AddSingleton(sp => CreateProtector(
            sp.GetRequiredService<IOptions<AlertNetOptions>>().Value,
            sp.GetRequiredService<TwilioSettings>()));
        services.AddSingleton<AuditLog>();
        return services;
    }

    /// <summary>Keys come from configuration (AlertNet:EncryptionKey and AlertNet:BlindIndexKey, or
    /// AlertNet:KeyFile), never from the database. Only drill mode may generate them.</summary>
    private static PersonalDataProtector CreateProtector(AlertNetOptions options, TwilioSettings twilio)
    {
        if (!string.IsNullOrEmpty(options.EncryptionKey) && !string.IsNullOrEmpty(options.BlindIndexKey))
        {
            return new PersonalDataProtector(Convert.FromBase64String(options.EncryptionKey), Convert.FromBase64String(options.BlindIndexKey));
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

        return new PersonalDataProtector(Convert.FromBase64String(keys.EncryptionKey), Convert.FromBase64String(keys.BlindIndexKey));
    }
}
