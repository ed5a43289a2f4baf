using AlertNet.Hosting;
using AlertNet.Infrastructure.Twilio;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Twilio.Clients;
using Twilio.Http;

namespace AlertNet.Carrier;

public static class CarrierSetup
{
    public const string HttpClientName = "carrier";

    public static IServiceCollection AddAlertNetCarrier(this IServiceCollection services, IConfiguration configuration, AlertNetOptions options)
    {
        services.AddOptions<CarrierOptions>().BindConfiguration(CarrierOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        var timeout = TimeSpan.FromSeconds(configuration.GetSection(TwilioOptions.Section).Get<TwilioOptions>()?.RequestTimeoutSeconds ?? 15);

        // One HttpClient and one TwilioRestClient for the process. The SDK has no base-URL setting, so a handler
        // rewrites requests to the configured Twilio-compatible endpoint; another notes each answer's HTTP status.
        services.AddHttpClient(HttpClientName)
            .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler
            {
                PooledConnectionLifetime = TimeSpan.FromMinutes(5),
                MaxConnectionsPerServer = 64,
                // A provider that does not even accept the connection is down: do not wait the whole request timeout.
                ConnectTimeout = TimeSpan.FromSeconds(Math.Min(5, timeout.TotalSeconds)),
            })
            .AddHttpMessageHandler(sp => new TwilioApiBaseUrlHandler(sp.GetRequiredService<TwilioSettings>().ApiBaseUrl))
            .AddHttpMessageHandler(() => new ProviderResponseRecorder())
            .SetHandlerLifetime(Timeout.InfiniteTimeSpan)
            // HttpClient's own log lines quote each request's URL, and a message lookup puts the number in it (To=...).
            .RemoveAllLoggers();
        services.AddSingleton<ITwilioRestClient>(sp =>
        {
            var settings = sp.GetRequiredService<TwilioSettings>();
            var http = sp.GetRequiredService<IHttpClientFactory>().CreateClient(HttpClientName);
            http.Timeout = timeout;
            return new TwilioRestClient(settings.AccountSid, settings.AuthToken, httpClient: new SystemNetHttpClient(http));
        });
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton<CarrierHealth>();
        services.AddSingleton<CarrierClient>();
        services.AddSingleton<ProviderDeletions>();
        if (options.RunsWorker)
        {
            services.AddHostedService(sp => sp.GetRequiredService<ProviderDeletions>());
        }

        return services;
    }
}
