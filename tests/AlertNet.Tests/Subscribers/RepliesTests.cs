using System.Text.RegularExpressions;
using AlertNet.Hosting;
using AlertNet.Subscribers;
using Microsoft.Extensions.Options;

namespace AlertNet.Tests.Subscribers;

public sealed partial class RepliesTests
{
    private const string Draft = "draft: needs review by a native speaker";
    private static readonly string[] Placeholders =
        ["{program}", "{organization}", "{contact}", "{group}", "{recipients}", "{segments}", "{code}", "{alert}", "{alerts}", "{time}"];

    /// <summary>Every language file, including one a translator has just added.</summary>
    public static TheoryData<string> Languages() => new(LanguageFiles.All.Keys.Order(StringComparer.Ordinal));

    [Fact]
    public void The_eight_languages_of_the_issue_ship() =>
        Assert.Subset(LanguageFiles.All.Keys.ToHashSet(), KeywordsTests.ShippedLanguages.ToHashSet());

    [Theory]
    [MemberData(nameof(Languages))]
    public void Every_language_file_has_every_reply_of_English_and_no_other(string language)
    {
        var english = LanguageFiles.All["en"].Replies;
        var file = LanguageFiles.All[language].Replies;

        Assert.Equal(english.Keys.Order(), file.Keys.Order());
        Assert.All(file, reply => Assert.False(string.IsNullOrWhiteSpace(reply.Value), $"{language}.{reply.Key} is empty"));
    }

    [Theory]
    [MemberData(nameof(Languages))]
    public void Every_reply_uses_the_same_placeholders_as_English(string language)
    {
        foreach (var (key, text) in LanguageFiles.All[language].Replies)
        {
            var english = LanguageFiles.All["en"].Replies[key];
            Assert.Equal(PlaceholdersIn(english), PlaceholdersIn(text));
            Assert.All(PlaceholdersIn(text), p => Assert.Contains(p, Placeholders));
        }
    }

    [Theory]
    [MemberData(nameof(Languages))]
    public void English_and_Spanish_are_complete_and_any_other_file_is_reviewed_or_marked_as_a_draft(string language)
    {
        var status = LanguageFiles.All[language].Status;

        Assert.True(language is "en" or "es" ? status is null : status is null or Draft, $"{language}.json _status: {status}");
    }

    [Fact]
    public void The_translations_shipped_so_far_are_marked_as_drafts() =>
        Assert.All(new[] { "fr", "ht", "pt", "zh", "vi", "ar" }, language => Assert.Equal(Draft, LanguageFiles.All[language].Status));

    /// <summary>A reply that tells people what to text must name words AlertNet understands.</summary>
    [Theory]
    [MemberData(nameof(Languages))]
    public void Instructions_in_replies_name_real_keywords(string language)
    {
        var replies = LanguageFiles.All[language].Replies;
        foreach (var key in new[] { "join", "joinGroup", "confirmGroup", "confirmed", "optIn", "language" })
        {
            Assert.Contains(KeywordKind.Help, KindsNamedIn(replies[key]));
            Assert.Contains(KeywordKind.OptOut, KindsNamedIn(replies[key]));
        }

        Assert.Contains(KeywordKind.OptIn, KindsNamedIn(replies["confirmGroup"]));
        Assert.Contains(KeywordKind.OptIn, KindsNamedIn(replies["optOut"]));
        Assert.Contains(KeywordKind.Join, KindsNamedIn(replies["help"]));
        Assert.Contains(KeywordKind.OptOut, KindsNamedIn(replies["help"]));
        Assert.Contains(KeywordKind.Rights, KindsNamedIn(replies["help"]));
        Assert.Contains(KeywordKind.Join, KindsNamedIn(replies["unknown"]));
        Assert.Contains(KeywordKind.Join, KindsNamedIn(replies["unknownGroup"]));
        Assert.Contains(KeywordKind.Latest, KindsNamedIn(replies["join"]));
        Assert.Contains(KeywordKind.Join, KindsNamedIn(replies["latestNotSubscribed"]));
        Assert.Contains(KeywordKind.OptOut, KindsNamedIn(replies["leftGroup"]));
        Assert.Contains(KeywordKind.Report, KindsNamedIn(replies["reportEmpty"]));
        Assert.Contains(KeywordKind.OptIn, KindsNamedIn(replies["smsAlertPreview"]));
        foreach (var key in new[] { "smsAlertUsage", "smsAlertUnknownGroup", "smsAlertCodeExpired", "smsAlertFailed" })
        {
            Assert.Contains(KeywordKind.Alert, KindsNamedIn(replies[key]));
        }
    }

    [Fact]
    public void Hotline_replies_say_what_happens_next_and_carry_a_safety_note()
    {
        var replies = RepliesWith();

        Assert.Equal(
            "Eastside Alerts: thank you, your report was received. A coordinator will verify it before any alert goes out. " +
            "Stay safe: do not put yourself at risk, and do not share names.", replies.Get("reportReceived", "en"));
        Assert.Equal(
            "Eastside Alerts: gracias, recibimos tu reporte. Un coordinador lo verificará antes de enviar cualquier alerta. " +
            "Cuídate: no te pongas en riesgo y no compartas nombres.", replies.Get("reportReceived", "es"));
        Assert.Equal(
            "Eastside Alerts: to report, reply REPORT followed by the place and what you saw, e.g. REPORT 2 vans at 5th and Main. " +
            "Do not share names.", replies.Get("reportEmpty", "en"));
    }

    [Fact]
    public void Organizer_replies_fill_in_counts_and_the_code()
    {
        var values = new Dictionary<string, string> { ["group"] = "Eastside", ["recipients"] = "1204", ["segments"] = "2", ["code"] = "042917" };

        Assert.Equal(
            "Eastside Alerts: urgent alert to Eastside: 1204 recipients, 2 SMS segments each. To send it, reply YES 042917 within 10 minutes.",
            RepliesWith().Get("smsAlertPreview", "en", values));
        Assert.Equal(
            "Eastside Alerts: alerta urgente para Eastside: 1204 destinatarios, 2 segmentos SMS cada uno. Para enviarla, responde SI 042917 " +
            "en los próximos 10 minutos.", RepliesWith().Get("smsAlertPreview", "es", values));
    }

    [Theory]
    [MemberData(nameof(Languages))]
    public void Every_reply_fits_in_one_Twilio_message(string language) =>
        Assert.All(LanguageFiles.All[language].Replies.Values, text => Assert.True(text.Length < 600, text));

    [Fact]
    public void English_compliance_texts_are_exact()
    {
        var replies = RepliesWith();

        Assert.Equal(
            "Eastside Alerts: you are subscribed to rapid-response alerts. Msg frequency varies. Msg & data rates may apply. " +
            "Reply HELP for help, STOP to cancel. Save this number: alerts come only from it. Reply LATEST to see the latest. " +
            "Para español responde ESPANOL.", replies.Get("join", "en"));
        Assert.Equal(
            "Eastside Alerts: you are subscribed to Northside alerts. Msg frequency varies. Msg & data rates may apply. " +
            "Reply HELP for help, STOP to cancel. Save this number: alerts come only from it. Reply LATEST to see the latest.",
            replies.Get("joinGroup", "en", "Northside"));
        Assert.Equal(
            "Eastside Alerts: reply YES to confirm you want Northside alerts. Msg frequency varies. Msg & data rates may apply. " +
            "Reply HELP for help, STOP to cancel.", replies.Get("confirmGroup", "en", "Northside"));
        Assert.Equal(
            "Eastside Alerts: rapid-response alerts from Eastside Defense Committee. Contact: eastside.example/help. " +
            "Msg & data rates may apply. Reply JOIN to subscribe, STOP to cancel, RIGHTS for your rights.", replies.Get("help", "en"));
        Assert.Equal(
            "Eastside Alerts: you are unsubscribed and will get no more messages. Reply START to subscribe again.", replies.Get("optOut", "en"));
    }

    [Fact]
    public void Spanish_compliance_texts_are_exact()
    {
        var replies = RepliesWith();

        Assert.Equal(
            "Eastside Alerts: estás suscrito a las alertas de respuesta rápida. La frecuencia de mensajes varía. " +
            "Pueden aplicar tarifas de mensajes y datos. Responde AYUDA para ayuda, ALTO para cancelar. " +
            "Guarda este número: las alertas llegan solo desde él. Responde ÚLTIMO para ver las más recientes. For English reply ENGLISH.",
            replies.Get("join", "es"));
        Assert.Equal(
            "Eastside Alerts: responde SI para confirmar que quieres las alertas de Northside. La frecuencia de mensajes varía. " +
            "Pueden aplicar tarifas de mensajes y datos. Responde AYUDA para ayuda, ALTO para cancelar.",
            replies.Get("confirmGroup", "es", "Northside"));
        Assert.Equal(
            "Eastside Alerts: alertas de respuesta rápida de Eastside Defense Committee. Contacto: eastside.example/help. " +
            "Pueden aplicar tarifas de mensajes y datos. Responde UNETE para suscribirte, ALTO para cancelar, DERECHOS para conocer tus derechos.",
            replies.Get("help", "es"));
        Assert.Equal(
            "Eastside Alerts: cancelaste tu suscripción y no recibirás más mensajes. Responde INICIO para suscribirte otra vez.",
            replies.Get("optOut", "es"));
    }

    [Fact]
    public void An_organization_rewords_a_reply_per_language_in_configuration()
    {
        var replies = RepliesWith(new Dictionary<string, string?>
        {
            ["Replies:es:join"] = "{program}: ya estás en la lista de {organization}. Responde ALTO para salir.",
        });

        Assert.Equal("Eastside Alerts: ya estás en la lista de Eastside Defense Committee. Responde ALTO para salir.", replies.Get("join", "es"));
        Assert.StartsWith("Eastside Alerts: you are subscribed", replies.Get("join", "en"), StringComparison.Ordinal);
        Assert.StartsWith("Eastside Alerts: alertas de", replies.Get("help", "es"), StringComparison.Ordinal);
    }

    [Fact]
    public void A_language_without_a_file_falls_back_to_the_organizations_default_language()
    {
        var replies = RepliesWith(defaultLanguage: "es");

        Assert.Equal(replies.Get("help", "es"), replies.Get("help", "de"));
        Assert.Equal(replies.Get("help", "es"), replies.Get("help", null));
    }

    [Fact]
    public void Without_an_organization_name_help_names_the_program()
    {
        var replies = new Replies(Options.Create(new AlertNetOptions { ProgramName = "Red Alerta", ContactInfo = "555-0100" }),
            new ConfigurationBuilder().Build());

        Assert.StartsWith("Red Alerta: rapid-response alerts from Red Alerta. Contact: 555-0100.", replies.Get("help", "en"), StringComparison.Ordinal);
    }

    private static Replies RepliesWith(Dictionary<string, string?>? configuration = null, string defaultLanguage = "en") =>
        new(Options.Create(new AlertNetOptions
            {
                ProgramName = SubscriberAppFixture.ProgramName,
                OrganizationName = SubscriberAppFixture.OrganizationName,
                ContactInfo = SubscriberAppFixture.ContactInfo,
                DefaultLanguage = defaultLanguage,
            }),
            new ConfigurationBuilder().AddInMemoryCollection(configuration ?? []).Build());

    private static List<string> PlaceholdersIn(string text) =>
        PlaceholderPattern().Matches(text).Select(m => m.Value).Distinct().Order(StringComparer.Ordinal).ToList();

    private static HashSet<KeywordKind> KindsNamedIn(string reply) =>
        Keywords.Normalize(reply).Split(' ').Select(word => Keywords.Parse(word).Kind).ToHashSet();

    [GeneratedRegex(@"\{[a-z]+\}")]
    private static partial Regex PlaceholderPattern();
}
