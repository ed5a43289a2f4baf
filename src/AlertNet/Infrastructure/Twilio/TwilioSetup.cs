using AlertNet.Hosting;
using AlertNet.Infrastructure.Twilio.Drill;

namespace AlertNet.Infrastructure.Twilio;

public static class TwilioSetup
{
    public static IServiceCollection AddAlertNetTwilio(this IServiceCollection services, IConfiguration configuration)
    {
        // Resolved now, not lazily: whether the drill simulator exists at all depends on it, and a
        // contradictory configuration (drill mode with real credentials) must stop the process at once.
        var twilioOptions = configuration.GetSection(TwilioOptions.Section).Get<TwilioOptions>() ?? new TwilioOptions();
        if (twilioOptions.RequestTimeoutSeconds is < 1 or > 300)
        {
            throw new InvalidOperationException("Twilio:RequestTimeoutSeconds must be 1 to 300.");
        }

        var app = configuration.GetSection(AlertNetOptions.Section).Get<AlertNetOptions>() ?? new AlertNetOptions();
        var settings = TwilioSettings.Resolve(app, twilioOptions);
        services.AddSingleton(settings);

        services.AddSingleton<TwilioWebhookFilter>();

        if (settings.IsDrill)
        {
            services.AddCarrierSimulator(simulator =>
            {
                simulator.AccountSid = settings.AccountSid;
                simulator.AuthToken = settings.AuthToken;
                simulator.Faults = twilioOptions.DrillFaults;
                // Simulated phones text the service the way Twilio delivers texts: to the public inbound webhook.
                simulator.InboundWebhookUrl = app.PublicBaseUrl.TrimEnd('/') + "/webhooks/twilio/inbound";
            });
        }

        return services;
    }

    public static void MapAlertNetTwilio(this WebApplication app)
    {
        if (app.Services.GetRequiredService<TwilioSettings>().IsDrill)
        {
            app.MapCarrierSimulator("/" + TwilioSettings.SimulatorPath);
        }
    }
}
