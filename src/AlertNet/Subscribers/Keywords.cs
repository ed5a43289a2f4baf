using System.Collections.Frozen;
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
    Rights,

    /// <summary>A sighting report for the hotline inbox (REPORT text).</summary>
    Report,

    /// <summary>An organizer's SMS command (ALERT group text). From a number that is not a registered organizer
    /// phone it is ordinary text.</summary>
    Alert,

    /// <summary>The alerts still in force that were sent to this number (LATEST): for someone who missed one, or
    /// was forwarded a text and wants to know whether it is real.</summary>
    Latest,

    /// <summary>An opt-out word followed by more words: STOP EASTSIDE leaves one group. When the rest names
    /// no group ("stop by the church at 5") it is ordinary text.</summary>
    LeaveGroup,
}

/// <summary>What a subscriber's text asks for, and the language the keyword was written in (for a word
/// several languages share, the first that lists it). Keyword and Argument are normalized.</summary>
public sealed record KeywordMatch(KeywordKind Kind, string? Language, string Keyword, string Argument)
{
    /// <summary>The whole normalized message.</summary>
    public string Text => Argument.Length == 0 ? Keyword : Keyword.Length == 0 ? Argument : Keyword + " " + Argument;
}

/// <summary>Reads subscriber keywords case-, accent-, whitespace- and punctuation-insensitively. The words
/// are data: the "keywords" object of each language file under Subscribers/Replies/.</summary>
public static class Keywords
{
    private static readonly Lazy<KeywordTable> Table = new(() => KeywordTable.Build(LanguageFiles.All.Values));

    /// <summary>What may stand between a keyword and its text: "REPORT: ...", "¡REPORTE! ...", "ALERT - ...".</summary>
    private static readonly char[] LeadingSeparators = [':', ';', ',', '.', '!', '-', '\u2013', '\u2014'];

    /// <summary>Every keyword phrase (normalized) with its kind and language.</summary>
    public static IReadOnlyDictionary<string, (KeywordKind Kind, string? Language)> All => Table.Value.Phrases;

    public static KeywordMatch Parse(string? body, string? twilioOptOutType = null)
    {
        var table = Table.Value;
        var words = Normalize(body).Split(' ', StringSplitOptions.RemoveEmptyEntries);
        var keyword = "";
        var used = 0;
        (KeywordKind Kind, string? Language) known = (KeywordKind.Unknown, null);
        // Longest phrase first, so TIENG VIET is one keyword and JOIN EASTSIDE is JOIN plus a group.
        for (var length = Math.Min(table.LongestPhrase, words.Length); length > 0; length--)
        {
            var phrase = string.Join(' ', words, 0, length);
            if (table.Phrases.TryGetValue(phrase, out known))
            {
                keyword = phrase;
                used = length;
                break;
            }
        }

        var argument = string.Join(' ', words.Skip(used));

        // Twilio's Advanced Opt-Out has already decided; agree with it so both sides hold the same list.
        switch (twilioOptOutType?.Trim().ToUpperInvariant())
        {
            case "STOP":
                return new KeywordMatch(KeywordKind.OptOut, known.Language, keyword, "");
            case "START":
                return new KeywordMatch(KeywordKind.OptIn, known.Language, keyword, "");
            case "HELP":
                return new KeywordMatch(KeywordKind.Help, known.Language, keyword, "");
        }

        return known.Kind switch
        {
            KeywordKind.Unknown => new KeywordMatch(KeywordKind.Unknown, null, "", argument),
            // Carriers only treat a single word as STOP; with more words it can only mean one group.
            KeywordKind.OptOut when argument.Length > 0 => new KeywordMatch(KeywordKind.LeaveGroup, known.Language, keyword, argument),
            KeywordKind.OptIn or KeywordKind.Help or KeywordKind.Language or KeywordKind.Rights or KeywordKind.Latest when argument.Length > 0 =>
                new KeywordMatch(KeywordKind.Unknown, null, "", string.Join(' ', words)),
            _ => new KeywordMatch(known.Kind, known.Language, keyword, argument),
        };
    }

    /// <summary>The code of <c>YES 123456</c> (any opt-in word, then only digits), else null. Parse reads such a
    /// text as ordinary text; only a registered organizer phone treats it as a confirmation.</summary>
    public static (string Code, string? Language)? ConfirmationCode(string? body)
    {
        var words = Normalize(body).Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (words.Length < 2 || !Table.Value.Phrases.TryGetValue(words[0], out var first) || first.Kind != KeywordKind.OptIn)
        {
            return null;
        }

        var code = string.Concat(words.Skip(1));
        return code.Length <= 12 && code.All(char.IsAsciiDigit) ? (code, first.Language) : null;
    }

    /// <summary>The text as it was written after its first <paramref name="words"/> words (counted as Normalize
    /// counts them), without the separators that follow them: for <c>"Report: ¿agents at 5th?"</c> and one word,
    /// <c>"¿agents at 5th?"</c>. Hotline reports and alert texts keep their case, accents and punctuation.</summary>
    public static string TextAfterWords(string? body, int words)
    {
        if (string.IsNullOrEmpty(body) || words <= 0)
        {
            return body?.Trim() ?? "";
        }

        var seen = 0;
        var inWord = false;
        var index = 0;
        foreach (var rune in body.EnumerateRunes())
        {
            var kind = Classify(rune);
            if (kind == RuneKind.Letter && !inWord)
            {
                if (seen == words)
                {
                    break;
                }

                inWord = true;
                seen++;
            }
            else if (kind == RuneKind.Separator && inWord)
            {
                inWord = false;
                if (seen == words)
                {
                    break;
                }
            }

            index += rune.Utf16SequenceLength;
        }

        if (seen < words)
        {
            return "";
        }

        while (index < body.Length && (char.IsWhiteSpace(body[index]) || LeadingSeparators.Contains(body[index])))
        {
            index++;
        }

        return body[index..].TrimEnd();
    }

    private enum RuneKind
    {
        Letter,
        Mark,
        Separator,
    }

    /// <summary>As Normalize sees a character: part of a word, a mark that belongs to the letter before it, or a separator.</summary>
    private static RuneKind Classify(Rune rune)
    {
        var decomposed = rune.ToString().Normalize(NormalizationForm.FormKD);
        if (decomposed.Any(char.IsLetterOrDigit))
        {
            return RuneKind.Letter;
        }

        return decomposed.All(c => CharUnicodeInfo.GetUnicodeCategory(c) == UnicodeCategory.NonSpacingMark) ? RuneKind.Mark : RuneKind.Separator;
    }

    /// <summary>True when a (group) keyword would be read as one of AlertNet's own keywords.</summary>
    public static bool IsReserved(string phrase) => Parse(phrase).Kind != KeywordKind.Unknown;

    /// <summary>Upper case, accents removed, punctuation turned into single spaces: "¡Únete!" becomes "UNETE",
    /// "Tiếng Việt" becomes "TIENG VIET", "ＳＴＯＰ" becomes "STOP". Letters of every script stay (中文, العربية).</summary>
    public static string Normalize(string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return "";
        }

        // Compatibility decomposition also folds full-width and other look-alike forms phones may send.
        var decomposed = text.Normalize(NormalizationForm.FormKD);
        var builder = new StringBuilder(decomposed.Length);
        var pendingSpace = false;
        foreach (var c in decomposed)
        {
            if (CharUnicodeInfo.GetUnicodeCategory(c) == UnicodeCategory.NonSpacingMark)
            {
                continue;
            }

            if (!char.IsLetterOrDigit(c))
            {
                pendingSpace = builder.Length > 0;
                continue;
            }

            if (pendingSpace)
            {
                builder.Append(' ');
                pendingSpace = false;
            }

            // Đ has no decomposition; Vietnamese writers drop its stroke when typing without accents.
            builder.Append(c is 'đ' or 'Đ' ? 'D' : char.ToUpperInvariant(c));
        }

        return builder.ToString().Normalize(NormalizationForm.FormC);
    }

    private sealed record KeywordTable(FrozenDictionary<string, (KeywordKind Kind, string? Language)> Phrases, int LongestPhrase)
    {
        /// <summary>English and Spanish first, then the other files alphabetically: a word several languages
        /// share (PARAR, INFO) keeps the language of the first that lists it. A word may not mean two kinds.</summary>
        public static KeywordTable Build(IEnumerable<LanguageFile> files)
        {
            var phrases = new Dictionary<string, (KeywordKind Kind, string? Language)>(StringComparer.Ordinal);
            var ordered = files.OrderBy(f => f.Language switch { "en" => 0, "es" => 1, _ => 2 }).ThenBy(f => f.Language, StringComparer.Ordinal);
            foreach (var file in ordered)
            {
                foreach (var (kind, words) in file.Keywords)
                {
                    foreach (var word in words)
                    {
                        var phrase = Normalize(word);
                        if (phrase.Length == 0)
                        {
                            throw new InvalidDataException($"Subscribers/Replies/{file.Language}.json: keyword '{word}' has no letters.");
                        }

                        if (phrases.TryGetValue(phrase, out var existing) && existing.Kind != kind)
                        {
                            throw new InvalidDataException(
                                $"Subscribers/Replies/{file.Language}.json: '{word}' is already a {existing.Kind} keyword ({existing.Language}).");
                        }

                        phrases.TryAdd(phrase, (kind, file.Language));
                    }
                }
            }

            return new KeywordTable(phrases.ToFrozenDictionary(StringComparer.Ordinal),
                phrases.Keys.Select(p => p.Count(c => c == ' ') + 1).DefaultIfEmpty(1).Max());
        }
    }
}
