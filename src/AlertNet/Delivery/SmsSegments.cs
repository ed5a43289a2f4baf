using System.Collections.Frozen;
using System.Globalization;
using System.Text;

namespace AlertNet.Delivery;

/// <summary>How a body travels as SMS: its encoding, its segments (what Twilio bills and throttles),
/// and the characters that forced UCS-2, so an organizer can see what a Spanish accent costs.</summary>
public sealed record SegmentCount(string Encoding, int Segments, int Units, string SentText, IReadOnlyList<string> UnicodeCharacters)
{
    public const string Gsm7 = "GSM-7";
    public const string Ucs2 = "UCS-2";
}

/// <summary>Counts SMS segments as carriers split a body, after Twilio's smart-encoding substitutions:
/// GSM-7 fits 160 septets (153 per part when split, and <c>^{}\[]~|€</c> take two), one character
/// outside GSM-7 makes the whole body UCS-2 with 70 UTF-16 units (67 per part; an emoji takes two). A two-unit
/// character is never split between parts, so a long text may need a part more than its length divided by 153 or 67.</summary>
public static class SmsSegments
{
    public const int MaxBodyLength = 1600;

    private const string Gsm7Basic =
        "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?" +
        "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";

    private const string Gsm7Extension = "^{}\\[]~|€\f";

    // Twilio's smart encoding swaps look-alike Unicode punctuation for GSM-7 before counting, so a
    // curly quote pasted from a word processor does not triple the cost of a message.
    private static readonly FrozenDictionary<char, string> SmartEncoding = new Dictionary<char, string>
    {
        ['\u201C'] = "\"", ['\u201D'] = "\"", ['\u201E'] = "\"", ['\u201F'] = "\"", ['\u2033'] = "\"", ['\u00AB'] = "\"", ['\u00BB'] = "\"",
        ['\u2018'] = "'", ['\u2019'] = "'", ['\u201A'] = "'", ['\u201B'] = "'", ['\u2032'] = "'", ['\u02BC'] = "'",
        ['\u2010'] = "-", ['\u2011'] = "-", ['\u2012'] = "-", ['\u2013'] = "-", ['\u2014'] = "-", ['\u2015'] = "-", ['\u2212'] = "-",
        ['\u2026'] = "...", ['\u2022'] = "-", ['\u2039'] = "<", ['\u203A'] = ">", ['\u02C6'] = "^", ['\u02DC'] = "~",
        ['\u00A0'] = " ", ['\u2000'] = " ", ['\u2001'] = " ", ['\u2002'] = " ", ['\u2003'] = " ", ['\u2004'] = " ",
        ['\u2005'] = " ", ['\u2006'] = " ", ['\u2007'] = " ", ['\u2008'] = " ", ['\u2009'] = " ", ['\u200A'] = " ",
        ['\u202F'] = " ", ['\u205F'] = " ", ['\u3000'] = " ", ['\u200B'] = "", ['\uFEFF'] = "",
    }.ToFrozenDictionary();

    public static int Count(string? body) => Analyze(body).Segments;

    /// <summary>Twilio refuses bodies over 1,600 characters (code points, after smart encoding).</summary>
    public static bool IsTooLong(string body) => ApplySmartEncoding(body).EnumerateRunes().Count() > MaxBodyLength;

    public static SegmentCount Analyze(string? body)
    {
        var text = ApplySmartEncoding(body ?? "");
        var septets = new List<int>(text.Length);
        var unicode = new List<string>();
        var enumerator = StringInfo.GetTextElementEnumerator(text);
        while (enumerator.MoveNext())
        {
            // Per character, not per text element: CR LF is one text element but two GSM-7 characters.
            var element = enumerator.GetTextElement();
            if (element.All(IsGsm7))
            {
                septets.AddRange(element.Select(c => Gsm7Extension.Contains(c, StringComparison.Ordinal) ? 2 : 1));
            }
            else if (!unicode.Contains(element))
            {
                unicode.Add(element);
            }
        }

        if (unicode.Count == 0)
        {
            return new SegmentCount(SegmentCount.Gsm7, Parts(septets, single: 160, multi: 153), septets.Sum(), text, unicode);
        }

        var utf16Units = text.EnumerateRunes().Select(rune => rune.Utf16SequenceLength).ToList();
        return new SegmentCount(SegmentCount.Ucs2, Parts(utf16Units, single: 70, multi: 67), text.Length, text, unicode);
    }

    public static string ApplySmartEncoding(string body)
    {
        var builder = new StringBuilder(body.Length);
        foreach (var c in body)
        {
            builder.Append(SmartEncoding.TryGetValue(c, out var replacement) ? replacement : c.ToString());
        }

        return builder.ToString();
    }

    private static bool IsGsm7(char c) =>
        Gsm7Basic.Contains(c, StringComparison.Ordinal) || Gsm7Extension.Contains(c, StringComparison.Ordinal);

    /// <summary>Parts filled greedily, as carriers split: an escaped GSM-7 character (two septets) or a surrogate
    /// pair (an emoji's two UTF-16 units) is never cut between two parts.</summary>
    private static int Parts(List<int> characters, int single, int multi)
    {
        if (characters.Sum() <= single)
        {
            return 1;
        }

        var parts = 1;
        var used = 0;
        foreach (var size in characters)
        {
            if (used + size > multi)
            {
                parts++;
                used = 0;
            }

            used += size;
        }

        return parts;
    }
}
