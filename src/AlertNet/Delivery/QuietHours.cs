namespace AlertNet.Delivery;

/// <summary>A group's nightly window, in its local time, when bulk messages wait. It may wrap past
/// midnight (21:00 to 08:00).</summary>
public sealed record QuietHours(TimeOnly Start, TimeOnly End, TimeZoneInfo TimeZone)
{
    /// <summary>When the window that holds <paramref name="utcNow"/> ends, or null when outside it.</summary>
    public DateTime? EndsAfter(DateTime utcNow)
    {
        var local = TimeZoneInfo.ConvertTimeFromUtc(utcNow, TimeZone);
        var time = TimeOnly.FromDateTime(local);
        var wraps = End <= Start;
        var inside = wraps ? time >= Start || time < End : time >= Start && time < End;
        if (!inside)
        {
            return null;
        }

        var endDate = DateOnly.FromDateTime(local);
        if (wraps && time >= Start)
        {
            endDate = endDate.AddDays(1);
        }

        var localEnd = endDate.ToDateTime(End, DateTimeKind.Unspecified);
        return TimeZoneInfo.ConvertTimeToUtc(localEnd, TimeZone);
    }
}
