using AlertNet.Delivery;
using CsCheck;

namespace AlertNet.Tests.Delivery;

/// <summary>Property tests of the segment calculator against a reference written from the GSM 03.38 tables and
/// the splitting rules carriers use (an escape sequence or a surrogate pair is never split between parts).</summary>
public sealed class SmsSegmentsPropertyTests
{
    // GSM 03.38 basic character set, written out from the table (row by row), not copied from the code under test.
    private const string GsmBasic =
        "@£$¥èéùìòÇ\nØø\rÅå" + "Δ_ΦΓΛΩΠΨΣΘΞ" + "ÆæßÉ" + " !\"#¤%&'()*+,-./" + "0123456789:;<=>?" + "¡ABCDEFGHIJKLMNO" + "PQRSTUVWXYZÄÖÑÜ§"
        + "¿abcdefghijklmno" + "pqrstuvwxyzäöñüà";

    // Characters reached through the escape (two septets each).
    private const string GsmExtension = "\f^{}\\[]~|€";

    // Outside GSM-7 and not replaced by Twilio's smart encoding.
    private const string NotGsm = "áíóúÁÍÓÚâêîôûçãõ中文ăđơưÐþЖжשعربي";

    private static readonly Gen<string> GsmText = Gen.String[Gen.Char[GsmBasic + GsmExtension], 0, 700];

    private static readonly Gen<string> AnyText = Gen.Select(
        Gen.String[Gen.Char[GsmBasic + GsmExtension + "áíóú中😀🚨\u0301"], 0, 400],
        Gen.OneOf("", "😀", "🚨🚨", "👩🏽‍⚖️", "\r\n"),
        (text, tail) => text + tail);

    [Fact]
    public void Text_made_only_of_GSM_characters_is_GSM_7_and_counted_as_the_reference_counts_it() =>
        GsmText.Sample(text =>
        {
            var count = SmsSegments.Analyze(text);
            Assert.Equal(SegmentCount.Gsm7, count.Encoding);
            Assert.Empty(count.UnicodeCharacters);
            Assert.Equal(ReferenceSegments(text), count.Segments);
        }, iter: 2000);

    [Fact]
    public void One_character_outside_GSM_7_makes_the_whole_text_UCS_2() =>
        Gen.Select(GsmText, Gen.Char[NotGsm], Gen.Int[0, 700]).Sample((text, extra, at) =>
        {
            var withExtra = text.Insert(Math.Min(at, text.Length), extra.ToString());
            var count = SmsSegments.Analyze(withExtra);
            Assert.Equal(SegmentCount.Ucs2, count.Encoding);
            Assert.Contains(extra.ToString(), count.UnicodeCharacters);
            Assert.Equal(ReferenceSegments(withExtra), count.Segments);
        }, iter: 2000);

    [Fact]
    public void Any_text_gets_the_reference_count_and_encoding() =>
        AnyText.Sample(text =>
        {
            var count = SmsSegments.Analyze(text);
            Assert.Equal(IsGsm(text) ? SegmentCount.Gsm7 : SegmentCount.Ucs2, count.Encoding);
            Assert.Equal(ReferenceSegments(text), count.Segments);
        }, iter: 2000);

    [Fact]
    public void Bodies_are_too_long_beyond_1600_characters_counting_an_emoji_as_one() =>
        Gen.Select(Gen.Int[1, 1700], Gen.OneOf("a", "é", "😀", "€")).Sample((length, unit) =>
        {
            var body = string.Concat(Enumerable.Repeat(unit, length));
            Assert.Equal(length > SmsSegments.MaxBodyLength, SmsSegments.IsTooLong(body));
        }, iter: 500);

    [Fact]
    public void Text_with_smart_quotes_and_dashes_is_counted_as_the_substituted_text() =>
        Gen.String[Gen.Char["abc \u201C\u201D\u2019\u2014\u2026\u00A0"], 0, 400].Sample(text =>
        {
            var substituted = SmsSegments.ApplySmartEncoding(text);
            Assert.True(IsGsm(substituted));
            Assert.Equal(ReferenceSegments(substituted), SmsSegments.Analyze(text).Segments);
        }, iter: 1000);

    [Theory]
    [InlineData("", 1)]
    [InlineData("Line one\r\nLine two", 1)]
    public void Examples_match_the_reference(string text, int segments)
    {
        Assert.Equal(segments, SmsSegments.Count(text));
        Assert.Equal(SegmentCount.Gsm7, SmsSegments.Analyze(text).Encoding);
    }

    private static bool IsGsm(string text) => text.All(c => GsmBasic.Contains(c, StringComparison.Ordinal) || GsmExtension.Contains(c, StringComparison.Ordinal));

    /// <summary>Single message: 160 septets (GSM-7) or 70 UTF-16 units (UCS-2). Split: parts of 153 septets or 67 units,
    /// filled greedily, an escaped character (2 septets) or a surrogate pair (2 units) never cut in two.</summary>
    private static int ReferenceSegments(string text)
    {
        List<int> units;
        int single, part;
        if (IsGsm(text))
        {
            units = text.Select(c => GsmExtension.Contains(c, StringComparison.Ordinal) ? 2 : 1).ToList();
            (single, part) = (160, 153);
        }
        else
        {
            units = [];
            foreach (var rune in text.EnumerateRunes())
            {
                units.Add(rune.Utf16SequenceLength);
            }

            (single, part) = (70, 67);
        }

        if (units.Sum() <= single)
        {
            return 1;
        }

        var parts = 1;
        var used = 0;
        foreach (var size in units)
        {
            if (used + size > part)
            {
                parts++;
                used = 0;
            }

            used += size;
        }

        return parts;
    }
}
