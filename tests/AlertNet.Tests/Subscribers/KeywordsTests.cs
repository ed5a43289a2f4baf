using AlertNet.Subscribers;

namespace AlertNet.Tests.Subscribers;

public sealed class KeywordsTests
{
    public static readonly string[] SubscriberLanguages = ["en", "es", "fr", "ht", "pt"];
    public static readonly string[] ShippedLanguages = ["en", "es", "fr", "ht", "pt", "zh", "vi", "ar"];

    [Theory]
    [InlineData("JOIN", KeywordKind.Join, "en")]
    [InlineData("¡Únete!", KeywordKind.Join, "es")]
    [InlineData("  unirse  eastside", KeywordKind.Join, "es")]
    [InlineData("Rejoindre", KeywordKind.Join, "fr")]
    [InlineData("antre", KeywordKind.Join, "ht")]
    [InlineData("Inscrever", KeywordKind.Join, "pt")]
    [InlineData("Stop.", KeywordKind.OptOut, "en")]
    [InlineData("ＳＴＯＰ", KeywordKind.OptOut, "en")]
    [InlineData("ALTO", KeywordKind.OptOut, "es")]
    [InlineData("arrêt", KeywordKind.OptOut, "fr")]
    [InlineData("ARRET", KeywordKind.OptOut, "fr")]
    [InlineData("Sispann!", KeywordKind.OptOut, "ht")]
    [InlineData("sair", KeywordKind.OptOut, "pt")]
    [InlineData("PARAR", KeywordKind.OptOut, "es")]
    [InlineData("stop eastside", KeywordKind.LeaveGroup, "en")]
    [InlineData("stop by the church at 5", KeywordKind.LeaveGroup, "en")]
    [InlineData("START", KeywordKind.OptIn, "en")]
    [InlineData("¡Sí!", KeywordKind.OptIn, "es")]
    [InlineData("oui", KeywordKind.OptIn, "fr")]
    [InlineData("Ayuda", KeywordKind.Help, "es")]
    [InlineData("èd", KeywordKind.Help, "ht")]
    [InlineData("ED", KeywordKind.Help, "ht")]
    [InlineData("help me please", KeywordKind.Unknown, null)]
    [InlineData("Español", KeywordKind.Language, "es")]
    [InlineData("espanol", KeywordKind.Language, "es")]
    [InlineData("Français", KeywordKind.Language, "fr")]
    [InlineData("kreyol", KeywordKind.Language, "ht")]
    [InlineData("Kreyòl ayisyen", KeywordKind.Language, "ht")]
    [InlineData("PORTUGUES", KeywordKind.Language, "pt")]
    [InlineData("中文", KeywordKind.Language, "zh")]
    [InlineData(" 中文。", KeywordKind.Language, "zh")]
    [InlineData("Tiếng Việt", KeywordKind.Language, "vi")]
    [InlineData("tieng viet", KeywordKind.Language, "vi")]
    [InlineData("العربية", KeywordKind.Language, "ar")]
    [InlineData("العَرَبِيَّة", KeywordKind.Language, "ar")]
    [InlineData("Derechos", KeywordKind.Rights, "es")]
    [InlineData("DWA", KeywordKind.Rights, "ht")]
    [InlineData("rights?", KeywordKind.Rights, "en")]
    [InlineData("REPORT agents at 5th and Main", KeywordKind.Report, "en")]
    [InlineData("Reporte: agentes en la escuela", KeywordKind.Report, "es")]
    [InlineData("ALERT eastside agents at the school", KeywordKind.Alert, "en")]
    [InlineData("Alerta este: agentes en la escuela", KeywordKind.Alert, "es")]
    [InlineData("YES 123456", KeywordKind.Unknown, null)]
    [InlineData("", KeywordKind.Unknown, null)]
    [InlineData(null, KeywordKind.Unknown, null)]
    [InlineData("🚨🚨", KeywordKind.Unknown, null)]
    public void Keywords_are_matched_ignoring_case_accents_spaces_and_punctuation(string? body, KeywordKind kind, string? language)
    {
        var match = Keywords.Parse(body);

        Assert.Equal(kind, match.Kind);
        Assert.Equal(language, match.Language);
    }

    [Theory]
    [InlineData("¡Únete!", "UNETE")]
    [InlineData("  Tiếng   Việt ", "TIENG VIET")]
    [InlineData("Đà Nẵng", "DA NANG")]
    [InlineData("中文", "中文")]
    [InlineData("العربية", "العربية")]
    [InlineData("ＪＯＩＮ", "JOIN")]
    [InlineData("stop--eastside!!", "STOP EASTSIDE")]
    public void Normalize_keeps_letters_of_every_script_and_drops_the_rest(string text, string expected) =>
        Assert.Equal(expected, Keywords.Normalize(text));

    [Fact]
    public void Twilios_OptOutType_wins_over_the_text()
    {
        Assert.Equal(KeywordKind.OptOut, Keywords.Parse("stop eastside", "STOP").Kind);
        Assert.Equal(KeywordKind.OptIn, Keywords.Parse("whatever", "START").Kind);
        Assert.Equal(KeywordKind.Help, Keywords.Parse("whatever", "HELP").Kind);
    }

    [Fact]
    public void The_rest_of_a_join_message_is_its_argument()
    {
        Assert.Equal("EASTSIDE", Keywords.Parse("join eastside").Argument);
        Assert.Equal("EAST SIDE", Keywords.Parse("Únete: east-side").Argument);
        Assert.Equal("EASTSIDE", Keywords.Parse("eastside").Text);
    }

    [Theory]
    [InlineData("YES 123456", "123456", "en")]
    [InlineData("yes 042917", "042917", "en")]
    [InlineData("¡Sí! 123 456", "123456", "es")]
    [InlineData("OUI 123456.", "123456", "fr")]
    [InlineData("wi 1", "1", "ht")]
    public void An_opt_in_word_and_digits_is_a_confirmation_code(string body, string code, string language) =>
        Assert.Equal((code, language), Keywords.ConfirmationCode(body));

    [Theory]
    [InlineData("YES")]
    [InlineData("123456")]
    [InlineData("YES please 123456")]
    [InlineData("JOIN 123456")]
    [InlineData("YES 1234567890123")]
    [InlineData(null)]
    public void Anything_else_is_no_confirmation_code(string? body) => Assert.Null(Keywords.ConfirmationCode(body));

    [Theory]
    [InlineData("REPORT agents at 5th & Main", 1, "agents at 5th & Main")]
    [InlineData("  Report: ¿Agentes en la escuela?  ", 1, "¿Agentes en la escuela?")]
    [InlineData("¡REPORTE!  3 agentes 🚨", 1, "3 agentes 🚨")]
    [InlineData("RAPÒ - ajan nan lekòl la", 1, "ajan nan lekòl la")]
    [InlineData("REPORT: - agents", 1, "agents")]
    [InlineData("ＲＥＰＯＲＴ 学校 агенты", 1, "学校 агенты")]
    [InlineData("ALERT East Side Agents at the school.", 3, "Agents at the school.")]
    [InlineData("ALERT eastside", 2, "")]
    [InlineData("REPORT", 1, "")]
    [InlineData("REPORT!!! agents?!", 1, "agents?!")]
    [InlineData("", 1, "")]
    public void The_text_after_a_keyword_keeps_its_case_accents_and_punctuation(string body, int words, string expected) =>
        Assert.Equal(expected, Keywords.TextAfterWords(body, words));

    [Theory]
    [InlineData("STOP")]
    [InlineData("STOPALL")]
    [InlineData("UNSUBSCRIBE")]
    [InlineData("CANCEL")]
    [InlineData("END")]
    [InlineData("QUIT")]
    [InlineData("REVOKE")]
    [InlineData("OPTOUT")]
    public void Every_word_of_Twilios_opt_out_list_opts_out(string word) => Assert.Equal(KeywordKind.OptOut, Keywords.Parse(word).Kind);

    [Fact]
    public void Every_shipped_language_has_a_language_keyword()
    {
        foreach (var language in LanguageFiles.All.Keys)
        {
            Assert.Contains(Keywords.All.Values, k => k.Kind == KeywordKind.Language && k.Language == language);
        }
    }

    [Fact]
    public void English_Spanish_French_Creole_and_Portuguese_have_every_subscriber_keyword()
    {
        KeywordKind[] kinds = [KeywordKind.Join, KeywordKind.OptOut, KeywordKind.OptIn, KeywordKind.Help, KeywordKind.Language, KeywordKind.Rights, KeywordKind.Report];
        foreach (var language in SubscriberLanguages)
        {
            var file = LanguageFiles.All[language];
            Assert.All(kinds, kind => Assert.True(file.Keywords.TryGetValue(kind, out var words) && words.Count > 0, $"{language}.json has no {kind} keyword"));
        }
    }

    [Theory]
    [InlineData("JOIN")]
    [InlineData("Stop")]
    [InlineData("AYUDA")]
    [InlineData("中文")]
    [InlineData("stop sign")]
    [InlineData("report card")]
    public void AlertNets_own_keywords_are_reserved(string phrase) => Assert.True(Keywords.IsReserved(phrase));

    [Theory]
    [InlineData("EASTSIDE")]
    [InlineData("Help desk")]
    [InlineData("Zona Norte")]
    public void Other_words_are_free_for_groups(string phrase) => Assert.False(Keywords.IsReserved(phrase));
}
