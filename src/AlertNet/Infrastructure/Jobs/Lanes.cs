namespace AlertNet.Infrastructure.Jobs;

/// <summary>Hangfire queues. Urgent alerts, corrections and all-clears never wait behind bulk sends:
/// each lane has its own Hangfire server (its own workers), because Hangfire.PostgreSql fetches from
/// several queues in alphabetical order, which would put "bulk" before "urgent".</summary>
public static class Lanes
{
    public const string Urgent = "urgent";
    public const string Bulk = "bulk";
}
