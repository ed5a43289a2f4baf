using System.Diagnostics.Metrics;
using AlertNet.Hosting;
using AlertNet.Privacy;
using Dapper;
using Microsoft.Extensions.Options;
using Npgsql;
using PhoneNumbers;

namespace AlertNet.Subscribers;

/// <summary>How much one number's texts may make AlertNet do: which countries may join and be answered, and how many
/// replies and hotline reports a number gets in an hour. Counters live in PostgreSQL (<c>sender_budgets</c>) so that
/// every web process counts against one budget, keyed by an index of their own purpose: a dump links them to nothing.
/// Whatever is refused is counted in <c>alertnet_inbound_limited_total{reason}</c>.</summary>
public sealed class SenderLimits
{
    public const string Reply = "reply";
    public const string Report = "report";

    private readonly PersonalDataProtector _protector;
    private readonly SubscribersOptions _options;
    private readonly HashSet<string>? _smsCountries;
    private readonly HashSet<string>? _whatsAppCountries;
    private readonly Counter<long> _limited;

    public SenderLimits(PersonalDataProtector protector, IOptions<SubscribersOptions> options, IOptions<AlertNetOptions> app, IMeterFactory meters)
    {
        _protector = protector;
        _options = options.Value;
        _smsCountries = Countries(_options.AllowedCountries, app.Value.DefaultRegion);
        _whatsAppCountries = Countries(_options.AllowedWhatsAppCountries, null);
        _limited = meters.Create(Infrastructure.Telemetry.AlertNetMetrics.MeterName).CreateCounter<long>("alertnet.inbound.limited", "{text}",
            "Texts whose reply, subscription or report was refused: reason country (not an allowed country), replies or reports (hourly limit)");
    }

    public int RepliesPerHour => _options.RepliesPerHour;

    public int ReportsPerHour => _options.ReportsPerHour;

    /// <summary>Whether the number's country may join and be answered on its channel.</summary>
    public bool IsAllowedCountry(SubscriberAddress from)
    {
        var allowed = from.Channel == SubscriberAddress.WhatsApp ? _whatsAppCountries : _smsCountries;
        return allowed is null || allowed.Contains(CountryOf(from.E164));
    }

    /// <summary>Counts one more <paramref name="kind"/> for this number in the current hour; returns how many it now has.</summary>
    public async Task<int> TakeAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, SubscriberAddress from, string kind,
        CancellationToken cancellationToken) =>
        await connection.ExecuteScalarAsync<int>(new CommandDefinition(
            """
            INSERT INTO sender_budgets (sender_index, kind, hour, used) VALUES (@index, @kind, date_trunc('hour', now()), 1)
            ON CONFLICT (sender_index, kind, hour) DO UPDATE SET used = sender_budgets.used + 1
            RETURNING used
            """,
            new { index = _protector.PurposeIndex(IndexPurpose.SenderBudget, from.E164), kind }, transaction,
            cancellationToken: cancellationToken));

    public void Refused(string reason) => _limited.Add(1, new KeyValuePair<string, object?>("reason", reason));

    /// <summary>The country of a number: its region when the number is valid (+1 is shared by the US, Canada and the
    /// Caribbean), else the main region of its calling code.</summary>
    public static string CountryOf(string e164)
    {
        var util = PhoneNumberUtil.GetInstance();
        try
        {
            var number = util.Parse(e164, null);
            return util.GetRegionCodeForNumber(number) ?? util.GetRegionCodeForCountryCode(number.CountryCode);
        }
        catch (NumberParseException)
        {
            return "ZZ";
        }
    }

    private static HashSet<string>? Countries(string setting, string? defaultRegion)
    {
        var codes = setting.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (codes.Contains("*"))
        {
            return null;
        }

        if (codes.Length == 0)
        {
            return defaultRegion is null ? null : new HashSet<string>([defaultRegion.ToUpperInvariant()], StringComparer.Ordinal);
        }

        return codes.Select(c => c.ToUpperInvariant()).ToHashSet(StringComparer.Ordinal);
    }
}
