using System.ComponentModel.DataAnnotations;

namespace AlertNet.Infrastructure.Telemetry;

/// <summary>The "Metrics" configuration section: where Prometheus scrapes /metrics.</summary>
public sealed class MetricsOptions
{
    public const string Section = "Metrics";

    /// <summary>A port of its own for /metrics (nothing else answers there); 0: no metrics endpoint.</summary>
    [Range(0, 65535)]
    public int Port { get; set; }

    /// <summary>The address that port listens on; 0.0.0.0 to let a Prometheus on another machine scrape it.</summary>
    [Required]
    public string BindAddress { get; set; } = "127.0.0.1";
}
