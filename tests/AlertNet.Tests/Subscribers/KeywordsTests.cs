using AlertNet.Subscribers;

namespace AlertNet.Tests.Subscribers;

public sealed class KeywordsTests
{
    [Theory]
    [InlineData("JOIN", KeywordKind.Join, "en")]
    [InlineData("¡Únete!", KeywordKind.Join, "es")]
    [InlineData("  unirse  eastside", KeywordKind.Join, "es")]
    [InlineData("Stop.", KeywordKind.OptOut, "en")]
    [InlineData("ALTO", KeywordKind.OptOut, "es")]
    [InlineData("stop by the church at 5", KeywordKind.Unknown, null)]
    [InlineData("START", KeywordKind.OptIn, "en")]
    [InlineData("Ayuda", KeywordKind.Help, "es")]
    [InlineData("", KeywordKind.Unknown, null)]
    [InlineData(null, KeywordKind.Unknown, null)]
    public void Keywords_are_matched_ignoring_case_accents_spaces_and_punctuation(string? body, KeywordKind kind, string? language)
    {
        var match = Keywords.Parse(body);

        Assert.Equal(kind, match.Kind);
        Assert.Equal(language, match.Language);
    }

    [Fact]
    public void Twilios_OptOutType_wins_over_the_text()
    {
        Assert.Equal(KeywordKind.OptOut, Keywords.Parse("arrêt", "STOP").Kind);
    }

    [Fact]
    public void The_rest_of_a_join_message_is_its_argument()
    {
        Assert.Equal("EASTSIDE", Keywords.Parse("join eastside").Argument);
    }
}
