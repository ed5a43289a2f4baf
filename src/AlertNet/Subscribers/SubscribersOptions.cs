using System.ComponentModel.DataAnnotations;

namespace AlertNet.Subscribers;

/// <summary>What a text from one number may make AlertNet do (settings section <c>Subscribers</c>).</summary>
public sealed class SubscribersOptions
{
    public const string Section = "Subscribers";

    /// <summary>Countries (ISO 3166 codes, comma-separated) whose SMS numbers may join and get replies; empty: the country
    /// of <c>AlertNet:DefaultRegion</c>; <c>*</c>: any. Elsewhere JOIN subscribes nobody and nothing is sent back (SMS
    /// pumping: fraudsters text JOIN from premium numbers abroad to be paid for what the service sends them).</summary>
    public string AllowedCountries { get; set; } = "";

    /// <summary>The same for WhatsApp numbers; empty or <c>*</c>: any (WhatsApp conversations are not paid per SMS abroad).</summary>
    public string AllowedWhatsAppCountries { get; set; } = "*";

    /// <summary>Replies one number may get in an hour; texts beyond it are still processed (STOP still opts out) but
    /// answered with silence.</summary>
    [Range(1, 10_000)]
    public int RepliesPerHour { get; set; } = 10;

    /// <summary>Hotline reports one number may file in an hour; one more is stored without a reply, the rest are dropped.</summary>
    [Range(1, 10_000)]
    public int ReportsPerHour { get; set; } = 5;
}
