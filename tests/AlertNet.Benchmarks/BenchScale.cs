namespace AlertNet.Benchmarks;

/// <summary>How big one run is. <c>--quick</c> divides every count by ten (a smoke check, a minute or
/// two); the targets in the issue are for the full scale.</summary>
internal sealed record BenchScale(bool Quick)
{
    private int Divisor => Quick ? 10 : 1;

    public string Name => Quick ? "quick (1/10 scale: a smoke check; the targets are for full scale)" : "full";

    /// <summary>Recipients of the fan-out, dispatch, bulk-campaign and callback phases.</summary>
    public int Recipients => 100_000 / Divisor;

    /// <summary>Recipients of the last phase.</summary>
    public int Million => 1_000_000 / Divisor;

    /// <summary>Urgent triggers per latency series (idle, and under bulk load).</summary>
    public int UrgentTriggers => 200 / Divisor;

    /// <summary>Each urgent alert goes to a small group of its own: latency is about the first request,
    /// and 200 alerts to 100,000 people would be a throughput test.</summary>
    public static int UrgentGroupSize => 10;

    /// <summary>Concurrent callers of the raw SDK loop (the ceiling in design guide §4 was measured with 32).</summary>
    public static int RawSdkConcurrency => 32;

    /// <summary>Concurrent HTTP clients posting status callbacks.</summary>
    public static int CallbackClients => 64;

    /// <summary>The whole run stops by itself after this, whatever hangs.</summary>
    public TimeSpan OverallTimeout => Quick ? TimeSpan.FromMinutes(20) : TimeSpan.FromMinutes(110);

    /// <summary>Phase timeout for work that grows with the recipient count.</summary>
    public TimeSpan PhaseTimeout => Quick ? TimeSpan.FromMinutes(3) : TimeSpan.FromMinutes(15);

    /// <summary>Timeout of the 1M phase: loading 900k subscribers, the send, and a bounded wait for the callbacks.</summary>
    public TimeSpan MillionTimeout => Quick ? TimeSpan.FromMinutes(8) : TimeSpan.FromMinutes(50);

    /// <summary>How long the 1M send may take before it is reported unfinished: 1,000,000 messages at 500 msg/s
    /// (what a busy 2-core machine managed) take 33 minutes.</summary>
    public TimeSpan MillionDispatchDeadline => Quick ? TimeSpan.FromMinutes(5) : TimeSpan.FromMinutes(38);
}
