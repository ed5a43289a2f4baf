using System.Text;
using AlertNet.Subscribers;
using CsCheck;

namespace AlertNet.Tests.Subscribers;

/// <summary>Property tests of the keyword parser: however a subscriber types a keyword, it means the same; an opt-out
/// word counts only as the whole message.</summary>
public sealed class KeywordsPropertyTests
{
    private static readonly string[] Phrases = Keywords.All.Keys.Order(StringComparer.Ordinal).ToArray();

    private static readonly string[] OptOutWords = LanguageFiles.All.Values
        .SelectMany(f => f.Keywords.GetValueOrDefault(KeywordKind.OptOut) ?? []).Distinct().ToArray();

    // What may stand around or between words: spaces, tabs, line breaks, punctuation, Spanish marks, odd spaces.
    private static readonly Gen<string> Separator = Gen.String[Gen.Char[" \t\r\n.,;:!?¡¿-–—'\"()*#…\u00A0\u3000"], 1, 4];

    private static readonly Gen<string> Edge = Gen.Frequency((1, Gen.Const("")), (2, Separator));

    // Combining accents a phone may add: acute, grave, diaeresis, tilde, cedilla.
    private static readonly Gen<string> Accent = Gen.Frequency((4, Gen.Const("")), (1, Gen.OneOf("\u0301", "\u0300", "\u0308", "\u0303", "\u0327")));

    /// <summary>A keyword phrase written the way people type it: each letter upper or lower case, maybe with an accent
    /// added, any separators between the words and around them.</summary>
    private static readonly Gen<(string Phrase, string Typed)> TypedKeyword =
        Gen.OneOf(Phrases).SelectMany(phrase =>
            Gen.Select(
                Gen.Bool.Array[phrase.Length],
                Accent.Array[phrase.Length],
                Separator.Array[phrase.Length],
                Edge,
                Edge,
                (upper, accents, separators, before, after) =>
                {
                    var typed = new StringBuilder(before);
                    for (var i = 0; i < phrase.Length; i++)
                    {
                        if (phrase[i] == ' ')
                        {
                            typed.Append(separators[i]);
                            continue;
                        }

                        typed.Append(upper[i] ? char.ToUpperInvariant(phrase[i]) : char.ToLowerInvariant(phrase[i]));
                        typed.Append(accents[i]);
                    }

                    return (phrase, typed.Append(after).ToString());
                }));

    [Fact]
    public void Any_casing_accents_punctuation_or_spacing_of_a_keyword_parses_as_the_keyword() =>
        TypedKeyword.Sample((phrase, typed) =>
        {
            var expected = Keywords.Parse(phrase);
            var actual = Keywords.Parse(typed);
            Assert.Equal(expected.Kind, actual.Kind);
            Assert.Equal(expected.Language, actual.Language);
            Assert.Equal(expected.Keyword, actual.Keyword);
        }, iter: 5000);

    [Fact]
    public void Every_keyword_phrase_parses_as_the_kind_and_language_its_file_gives_it() =>
        Gen.OneOf(Phrases).Sample(phrase =>
        {
            var (kind, language) = Keywords.All[phrase];
            var parsed = Keywords.Parse(phrase);
            Assert.Equal(language, parsed.Language);
            Assert.Equal(kind, parsed.Kind);
        }, iter: 1000);

    [Fact]
    public void An_opt_out_word_with_any_other_word_before_or_after_it_is_not_an_opt_out() =>
        Gen.Select(Gen.OneOf(OptOutWords), Gen.String[Gen.Char['a', 'z'], 1, 10], Separator, Gen.Bool).Sample((stop, word, separator, before) =>
        {
            var text = before ? word + separator + stop : stop + separator + word;
            Assert.NotEqual(KeywordKind.OptOut, Keywords.Parse(text).Kind);
        }, iter: 5000);

    [Fact]
    public void An_opt_out_word_alone_however_typed_is_an_opt_out() =>
        Gen.Select(Gen.OneOf(OptOutWords), Edge, Edge, Gen.Bool).Sample((stop, before, after, lower) =>
            Assert.Equal(KeywordKind.OptOut, Keywords.Parse(before + (lower ? stop.ToLowerInvariant() : stop) + after).Kind), iter: 2000);

    [Fact]
    public void Normalizing_twice_changes_nothing() =>
        Gen.String.Sample(text => Assert.Equal(Keywords.Normalize(text), Keywords.Normalize(Keywords.Normalize(text))), iter: 5000);

    [Fact]
    public void The_parser_never_throws_on_any_text() =>
        Gen.String[Gen.Char, 0, 2000].Sample(text => Keywords.Parse(text), iter: 2000);
}
