using System.Globalization;
using Cronos;

namespace AlertNet.Alerts;

/// <summary>Checks a campaign's schedule before Hangfire gets it. Hangfire also takes a sixth, leading seconds field
/// (<c>*/5 * * * * *</c>: a campaign every five seconds, which is how one organizer once sent three alerts in 16
/// seconds); a campaign takes five fields only, must run at least Alerts:CampaignMinimumInterval apart in its own time
/// zone (daylight-saving changes included), and must run at all.</summary>
public static class CampaignSchedule
{
    /// <summary>How far ahead the runs are checked: a year holds every month and both daylight-saving changes.</summary>
    private static readonly TimeSpan Horizon = TimeSpan.FromDays(366);

    /// <summary>Enough to cover a year of hourly runs; a schedule that runs more often fails long before this.</summary>
    private const int MaxOccurrencesChecked = 20_000;

    public const string Example = "cron must be a cron expression such as \"0 18 * * 1\" (Mondays 18:00).";

    /// <summary>Why the schedule is refused (a sentence for the organizer), or null.</summary>
    public static string? Problem(string cron, TimeZoneInfo zone, TimeSpan minimumInterval, DateTimeOffset now)
    {
        var fields = cron.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
        if (fields.Length == 6)
        {
            return $"cron has 6 fields: second-level cron expressions are not accepted. Use 5 fields (minute hour day month weekday), " +
                $"such as \"0 18 * * 1\"; runs must be at least {Describe(minimumInterval)} apart.";
        }

        CronExpression expression;
        try
        {
            expression = CronExpression.Parse(string.Join(' ', fields), CronFormat.Standard);
        }
        catch (CronFormatException)
        {
            return Example;
        }

        DateTimeOffset? previous = null;
        var checkedRuns = 0;
        foreach (var next in expression.GetOccurrences(now, now + Horizon, zone))
        {
            if (previous is { } last && next - last < minimumInterval)
            {
                return $"cron runs {Describe(next - last)} apart (at {last.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture)} and " +
                    $"{next.ToString("HH:mm", CultureInfo.InvariantCulture)}, {zone.Id}): campaign runs must be at least " +
                    $"{Describe(minimumInterval)} apart (Alerts:CampaignMinimumInterval).";
            }

            previous = next;
            if (++checkedRuns >= MaxOccurrencesChecked)
            {
                break;
            }
        }

        return previous is null ? "cron never runs in the coming year: check the day and month fields." : null;
    }

    /// <summary>"1 hour", "30 minutes", "5 seconds".</summary>
    public static string Describe(TimeSpan interval) => interval switch
    {
        { TotalDays: >= 1 } when interval.TotalDays % 1 == 0 => Plural((int)interval.TotalDays, "day"),
        { TotalHours: >= 1 } when interval.TotalHours % 1 == 0 => Plural((int)interval.TotalHours, "hour"),
        { TotalMinutes: >= 1 } when interval.TotalMinutes % 1 == 0 => Plural((int)interval.TotalMinutes, "minute"),
        _ => Plural((int)Math.Round(interval.TotalSeconds), "second"),
    };

    private static string Plural(int count, string unit) =>
        count.ToString(CultureInfo.InvariantCulture) + " " + unit + (count == 1 ? "" : "s");
}
