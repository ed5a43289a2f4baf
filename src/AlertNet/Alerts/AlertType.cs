using AlertNet.Infrastructure.Jobs;

namespace AlertNet.Alerts;

public static class AlertType
{
    public const string Urgent = "urgent";
    public const string Correction = "correction";
    public const string AllClear = "all_clear";
    public const string Retraction = "retraction";
    public const string KnowYourRights = "know_your_rights";

    public static readonly string[] All = [Urgent, Correction, AllClear, Retraction, KnowYourRights];

    /// <summary>Sent to groups (POST /api/alerts).</summary>
    public static readonly string[] ToGroups = [Urgent, KnowYourRights];

    /// <summary>Sent to the people an earlier alert reached (SendFollowUp).</summary>
    public static readonly string[] FollowUps = [Correction, AllClear, Retraction];

    /// <summary>An all-clear or a retraction ends its original: what was not sent yet is not sent at all.</summary>
    public static bool StopsOriginal(string type) => type is AllClear or Retraction;

    /// <summary>Raid alerts and their follow-ups jump the queue; campaigns wait their turn.</summary>
    public static string Lane(string type) => type == KnowYourRights ? Lanes.Bulk : Lanes.Urgent;
}
