using AlertNet.Hosting;
using AlertNet.Infrastructure.Twilio.Drill;
using Twilio.Clients;
using Twilio.Http;

namespace AlertNet.Infrastructure.Twilio;

public static class TwilioSetup
{
    public const string HttpClientName = "twilio";

    public static IServiceCollection AddAlertNetTwilio(this IServiceCollection services, IConfiguration configuration)
    {
        // Resolved now, not lazily: whether the drill simulator exists at all depends on it, and a
        // contradictory configuration (drill mode with real credentials) must stop the process at once.
        var twilioOptions = configuration.GetSection(TwilioOptions.Section).Get<TwilioOptions>() ?? new TwilioOptions();
        if (twilioOptions.RequestTimeoutSeconds is < 1 or > 300)
        {
            throw new InvalidOperationException("Twilio:RequestTimeoutSeconds must be 1 to 300.");
        }

        var settings = TwilioSettings.Resolve(
            configuration.GetSection(AlertNetOptions.Section).Get<AlertNetOptions>() ?? new AlertNetOptions(), twilioOptions);
        services.AddSingleton(settings);

        // One HttpClient and one TwilioRestClient for the process. The SDK has no base-URL setting,
        // so a handler rewrites requests to the configured Twilio-compatible endpoint.
        services.AddHttpClient(HttpClientName)
            .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler
            {
                PooledConnectionLifetime = TimeSpan.FromMinutes(5),
                MaxConnectionsPerServer = 64,
            })
            .AddHttpMessageHandler(sp => new TwilioApiBaseUrlHandler(sp.GetRequiredService<TwilioSettings>().ApiBaseUrl))
            .SetHandlerLifetime(Timeout.InfiniteTimeSpan);
        services.AddSingleton<ITwilioRestClient>(sp =>
        {
            var settings = sp.GetRequiredService<TwilioSettings>();
            var http = sp.GetRequiredService<IHttpClientFactory>().CreateClient(HttpClientName);
            http.Timeout = TimeSpan.FromSeconds(twilioOptions.RequestTimeoutSeconds);
            return new TwilioRestClient(settings.AccountSid, settings.AuthToken, httpClient: new SystemNetHttpClient(http));
        });
        services.AddSingleton<TwilioWebhookFilter>();

        if (settings.IsDrill)
        {
            services.AddCarrierSimulator(simulator =>
            {
                simulator.AccountSid = settings.AccountSid;
                simulator.AuthToken = settings.AuthToken;
                simulator.Faults = twilioOptions.DrillFaults;
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
