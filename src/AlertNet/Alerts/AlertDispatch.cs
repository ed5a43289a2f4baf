using AlertNet.Delivery;
using Hangfire;

namespace AlertNet.Alerts;

/// <summary>Queues an alert's dispatch in its lane: now, or at its sendAt when that is still ahead. Shared by
/// Send (TriggerAlert) and a second organizer's approval (ApproveAlert), so both dispatch the same way.</summary>
public static class AlertDispatch
{
    public static void Queue(IBackgroundJobClient jobs, long alertId, string type, DateTimeOffset? sendAt)
    {
        // If the process dies before the enqueue, the sweeper finds the alert still queued and dispatches it.
        var lane = AlertType.Lane(type);
        if (sendAt is { } at && at > DateTimeOffset.UtcNow)
        {
            jobs.Schedule<DispatchAlertJob>(lane, job => job.RunAsync(alertId, CancellationToken.None), at);
        }
        else
        {
            jobs.Enqueue<DispatchAlertJob>(lane, job => job.RunAsync(alertId, CancellationToken.None));
        }
    }
}
