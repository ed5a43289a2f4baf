using System.Globalization;
using AlertNet.Privacy;
using CsCheck;

namespace AlertNet.Tests.Privacy;

/// <summary>Property tests of phone number normalization and the blind index built on it: one number is one
/// subscriber however it is written.</summary>
public sealed class PhoneNumbersPropertyTests
{
    private static readonly PersonalDataProtector Protector = new(
        Convert.FromBase64String(KeyFile.NewKey()), Convert.FromBase64String(KeyFile.NewKey()));

    /// <summary>A US number: area code and exchange 200–999, any line number.</summary>
    private static readonly Gen<(int Area, int Exchange, int Line)> UsNumber =
        Gen.Select(Gen.Int[200, 999], Gen.Int[200, 999], Gen.Int[0, 9999]);

    private static string Formatted(int area, int exchange, int line, int style)
    {
        var a = area.ToString(CultureInfo.InvariantCulture);
        var e = exchange.ToString(CultureInfo.InvariantCulture);
        var l = line.ToString("D4", CultureInfo.InvariantCulture);
        return style switch
        {
            0 => $"+1{a}{e}{l}",
            1 => $"+1 ({a}) {e}-{l}",
            2 => $"({a}) {e}-{l}",
            3 => $"{a}-{e}-{l}",
            4 => $"{a}.{e}.{l}",
            5 => $"1 {a} {e} {l}",
            6 => $"  +1-{a}-{e}-{l}\t",
            7 => $"{a}{e}{l}",
            _ => $"+1 {a} {e} {l}",
        };
    }

    [Fact]
    public void Every_way_of_writing_one_number_normalizes_to_the_same_number_and_blind_index() =>
        Gen.Select(UsNumber, Gen.Int[0, 8], Gen.Int[0, 8]).Sample((number, styleA, styleB) =>
        {
            var (area, exchange, line) = number;
            var a = SubscriberAddress.TryParse(Formatted(area, exchange, line, styleA), "US");
            var b = SubscriberAddress.TryParse(Formatted(area, exchange, line, styleB), "US");
            Assert.NotNull(a);
            Assert.NotNull(b);
            Assert.Equal(a.E164, b.E164);
            Assert.Equal(Protector.BlindIndex(a.E164), Protector.BlindIndex(b.E164));
        }, iter: 3000);

    [Fact]
    public void A_WhatsApp_address_is_the_same_number_on_another_channel() =>
        Gen.Select(UsNumber, Gen.Int[0, 8]).Sample((number, style) =>
        {
            var (area, exchange, line) = number;
            var text = Formatted(area, exchange, line, style).Trim();
            var sms = SubscriberAddress.TryParse(text, "US")!;
            var whatsApp = SubscriberAddress.TryParse("whatsapp:" + text, "US")!;
            Assert.Equal(SubscriberAddress.WhatsApp, whatsApp.Channel);
            Assert.Equal(sms.E164, whatsApp.E164);
        }, iter: 2000);

    [Fact]
    public void Normalizing_a_normalized_number_changes_nothing() =>
        Gen.OneOf(
                Gen.String[Gen.Char["0123456789 +-().whatsap:"], 0, 25],
                Gen.Select(UsNumber, Gen.Int[0, 8]).Select(n => Formatted(n.Item1.Area, n.Item1.Exchange, n.Item1.Line, n.Item2)),
                Gen.Select(Gen.OneOf("+44", "+52", "+33", "+509", "+86", "+84", "+55"), Gen.Long[1_000_000, 99_999_999_999])
                    .Select((code, rest) => code + rest.ToString(CultureInfo.InvariantCulture)))
            .Sample(text =>
            {
                if (SubscriberAddress.TryParse(text, "US") is { } once)
                {
                    var twice = SubscriberAddress.TryParse(once.TwilioAddress, "US");
                    Assert.Equal(once, twice);
                    Assert.StartsWith("+", once.E164, StringComparison.Ordinal);
                }
            }, iter: 5000);

    [Fact]
    public void Different_numbers_get_different_blind_indexes() =>
        Gen.Select(UsNumber, UsNumber).Where((a, b) => a != b).Sample((a, b) =>
        {
            var first = SubscriberAddress.TryParse(Formatted(a.Area, a.Exchange, a.Line, 0), "US")!;
            var second = SubscriberAddress.TryParse(Formatted(b.Area, b.Exchange, b.Line, 0), "US")!;
            Assert.NotEqual(Protector.BlindIndex(first.E164), Protector.BlindIndex(second.E164));
        }, iter: 2000);
}
