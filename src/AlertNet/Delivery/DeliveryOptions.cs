using System.ComponentModel.DataAnnotations;

namespace AlertNet.Delivery;

/// <summary>The "Delivery" configuration section.</summary>
public sealed class DeliveryOptions
{
    public const string Section = "Delivery";

    /// <summary>Deliveries one job claims at a time.</summary>
    [Range(1, 5000)]
    public int BatchSize { get; set; } = 250;

    /// <summary>Batch jobs queued per alert; they drain the alert's rows together.</summary>
    [Range(1, 256)]
    public int ParallelBatchJobs { get; set; } = 8;

    /// <summary>Twilio requests in flight per batch job.</summary>
    [Range(1, 256)]
    public int ConcurrentRequests { get; set; } = 16;

    /// <summary>How long a claim lasts before another worker may take the delivery over.</summary>
    [Range(5, 3600)]
    public int ClaimLeaseSeconds { get; set; } = 60;

    /// <summary>Transient Twilio errors are retried this many times (while the alert is valid).</summary>
    [Range(0, 100)]
    public int MaxAttempts { get; set; } = 8;
}
