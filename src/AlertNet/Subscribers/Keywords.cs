using System.Globalization;
using System.Text;

namespace AlertNet.Subscribers;

public enum KeywordKind
{
    Unknown,
    Join,
    OptOut,
    OptIn,
    Help,
    Language,
}

/// <summary>What a subscriber's text asks for, and the language the keyword was written in.</summary>
public sealed record KeywordMatch(KeywordKind Kind, string? Language, string Keyword, string Argument);

/// <summary>Reads subscriber keywords case-, accent-, whitespace- and punctuation-insensitively.
/// Opt-out words must be the whole message, as carriers match them.</summary>
public static class Keywords
{
    private static readonly Dictionary<string, (KeywordKind Kind, string? Language)> Words = new(StringComparer.Ordinal)
    {
        ["JOIN"] = (KeywordKind.Join, "en"),
        ["UNETE"] = (KeywordKind.Join, "es"),
        ["UNIRSE"] = (KeywordKind.Join, "es"),
        // Twilio's default opt-out list, then the Spanish words carriers do not know.
        ["STOP"] = (KeywordKind.OptOut, "en"),
        ["STOPALL"] = (KeywordKind.OptOut, "en"),
        ["UNSUBSCRIBE"] = (KeywordKind.OptOut, "en"),
        ["CANCEL"] = (KeywordKind.OptOut, "en"),
        ["END"] = (KeywordKind.OptOut, "en"),
        ["QUIT"] = (KeywordKind.OptOut, "en"),
        ["REVOKE"] = (KeywordKind.OptOut, "en"),
        ["OPTOUT"] = (KeywordKind.OptOut, "en"),
        ["ALTO"] = (KeywordKind.OptOut, "es"),
        ["PARAR"] = (KeywordKind.OptOut, "es"),
        ["BAJA"] = (KeywordKind.OptOut, "es"),
        ["CANCELAR"] = (KeywordKind.OptOut, "es"),
        ["START"] = (KeywordKind.OptIn, "en"),
        ["UNSTOP"] = (KeywordKind.OptIn, "en"),
        ["YES"] = (KeywordKind.OptIn, "en"),
        ["INICIO"] = (KeywordKind.OptIn, "es"),
        ["HELP"] = (KeywordKind.Help, "en"),
        ["INFO"] = (KeywordKind.Help, "en"),
        ["AYUDA"] = (KeywordKind.Help, "es"),
        ["ENGLISH"] = (KeywordKind.Language, "en"),
        ["ESPANOL"] = (KeywordKind.Language, "es"),
    };

    public static KeywordMatch Parse(string? body, string? twilioOptOutType = null)
    {
        var words = Normalize(body).Split(' ', StringSplitOptions.RemoveEmptyEntries);
        var first = words.Length > 0 ? words[0] : "";
        var argument = string.Join(' ', words.Skip(1));
        var known = Words.TryGetValue(first, out var word) ? word : (KeywordKind.Unknown, null);

        // Twilio's Advanced Opt-Out has already decided; agree with it so both sides hold the same list.
        switch (twilioOptOutType?.Trim().ToUpperInvariant())
        {
            case "STOP":
                return new KeywordMatch(KeywordKind.OptOut, known.Language, first, "");
            case "START":
                return new KeywordMatch(KeywordKind.OptIn, known.Language, first, "");
            case "HELP":
                return new KeywordMatch(KeywordKind.Help, known.Language, first, "");
        }

        // Carriers only treat a single word as STOP/START; "stop by at 5" is not an opt-out.
        if (known.Kind is KeywordKind.OptOut or KeywordKind.OptIn or KeywordKind.Help or KeywordKind.Language && words.Length != 1)
        {
            return new KeywordMatch(KeywordKind.Unknown, null, first, argument);
        }

        return new KeywordMatch(known.Kind, known.Language, first, argument);
    }

    /// <summary>Upper case, accents removed, punctuation turned into spaces: "¡Únete!" becomes "UNETE".</summary>
    public static string Normalize(string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return "";
        }

        var decomposed = text.Normalize(NormalizationForm.FormD);
        var builder = new StringBuilder(decomposed.Length);
        foreach (var c in decomposed)
        {
            var category = CharUnicodeInfo.GetUnicodeCategory(c);
            if (category == UnicodeCategory.NonSpacingMark)
            {
                continue;
            }

            builder.Append(char.IsLetterOrDigit(c) ? char.ToUpperInvariant(c) : ' ');
        }

        return builder.ToString().Normalize(NormalizationForm.FormC).Trim();
    }
}
