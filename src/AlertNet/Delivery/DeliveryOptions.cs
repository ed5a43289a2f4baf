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

    /// <summary>How long a batch job sends before it yields its worker to other alerts in its lane.</summary>
    [Range(1, 600)]
    public int JobSliceSeconds { get; set; } = 2;

    /// <summary>Twilio requests in flight per batch job.</summary>
    [Range(1, 256)]
    public int ConcurrentRequests { get; set; } = 16;

    /// <summary>How long a claim lasts before another worker may take the delivery over.</summary>
    [Range(5, 3600)]
    public int ClaimLeaseSeconds { get; set; } = 60;

    /// <summary>How often each worker looks for stalled alerts.</summary>
    [Range(1, 3600)]
    public int SweepIntervalSeconds { get; set; } = 15;

    /// <summary>An alert with work due and no delivery touched for this long is restarted by the sweeper.</summary>
    [Range(1, 3600)]
    public int StallSeconds { get; set; } = 30;

    /// <summary>A message accepted or sent with no final status this long after it was accepted is looked up at the
    /// provider; later checks wait twice as long each time.</summary>
    [Range(1, 86_400)]
    public int StatusCheckSeconds { get; set; } = 900;

    /// <summary>At most this many status checks per message.</summary>
    [Range(1, 100)]
    public int MaxStatusChecks { get; set; } = 8;

    /// <summary>A message the carrier took ("sent") without a delivery receipt this long after it was accepted is settled
    /// as "sent, no receipt" (many carriers never send receipts).</summary>
    [Range(1, 10_000_000)]
    public int SentNoReceiptSeconds { get; set; } = 21_600;

    /// <summary>The sender's throughput in message segments per second, shared by all worker processes
    /// (a US long code about 1, toll-free 3, a short code 100 or more, 10DLC 12 to 225). 0: no throttle.</summary>
    [Range(0, 100_000)]
    public double SegmentsPerSecond { get; set; }

    /// <summary>Price of one segment, for the composer's cost estimate.</summary>
    [Range(0, 10)]
    public decimal PricePerSegment { get; set; } = 0.0083m;

    /// <summary>Transient Twilio errors are retried this many times (while the alert is valid).</summary>
    [Range(0, 100)]
    public int MaxAttempts { get; set; } = 8;
}
