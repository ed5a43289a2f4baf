using AlertNet.Infrastructure.Jobs;

namespace AlertNet.Alerts;

public static class AlertType
{
    public const string Urgent = "urgent";
    public const string Correction = "correction";
    public const string AllClear = "all_clear";
    public const string KnowYourRights = "know_your_rights";

    public static readonly string[] All = [Urgent, Correction, AllClear, KnowYourRights];

    /// <summary>Raid alerts and their follow-ups jump the queue; campaigns wait their turn.</summary>
    public static string Lane(string type) => type == KnowYourRights ? Lanes.Bulk : Lanes.Urgent;
}
