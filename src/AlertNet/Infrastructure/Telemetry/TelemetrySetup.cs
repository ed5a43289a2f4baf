using OpenTelemetry.Metrics;

namespace AlertNet.Infrastructure.Telemetry;

/// <summary>Metrics for Prometheus on a port of their own. Why a separate port, anonymous: Prometheus
/// scrapes without credentials to keep in its configuration, and the port is opened only to the
/// monitoring network (by default it listens on loopback). On the public port a reverse proxy would make
/// every request look local, so no allow-list by address could be trusted there; and an API token in
/// Prometheus' configuration would be one more secret that can act on AlertNet. The metrics carry no
/// personal data, but queue depth shows when an alert is going out, so they are not public either.</summary>
public static class TelemetrySetup
{
    public const string Path = "/metrics";

    public static WebApplicationBuilder AddAlertNetTelemetry(this WebApplicationBuilder builder, IEnumerable<string> urls)
    {
        builder.Services.AddOptions<MetricsOptions>().BindConfiguration(MetricsOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddSingleton<AlertNetMetrics>();
        var metrics = builder.Configuration.GetSection(MetricsOptions.Section).Get<MetricsOptions>() ?? new MetricsOptions();
        if (metrics.Port > 0)
        {
            builder.Services.AddOpenTelemetry().WithMetrics(m => m.AddMeter(AlertNetMetrics.MeterName).AddPrometheusExporter());
            builder.WebHost.UseUrls([.. urls, $"http://{metrics.BindAddress}:{metrics.Port}"]);
        }

        return builder;
    }

    /// <summary>Serves /metrics on the metrics port only, and nothing else there.</summary>
    public static WebApplication UseAlertNetMetrics(this WebApplication app)
    {
        var port = app.Configuration.GetSection(MetricsOptions.Section).Get<MetricsOptions>()?.Port ?? 0;
        if (port == 0)
        {
            return app;
        }

        app.UseOpenTelemetryPrometheusScrapingEndpoint(context => context.Connection.LocalPort == port && context.Request.Path == Path);
        app.Use(async (context, next) =>
        {
            if (context.Connection.LocalPort == port)
            {
                context.Response.StatusCode = StatusCodes.Status404NotFound;
                return;
            }

            await next(context);
        });
        return app;
    }
}
