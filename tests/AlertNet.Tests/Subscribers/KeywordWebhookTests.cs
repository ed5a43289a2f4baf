using System.Globalization;
using System.Text;
using AlertNet.Subscribers;
using AlertNet.Tests.Support;
using Dapper;

namespace AlertNet.Tests.Subscribers;

/// <summary>Every keyword of every shipped language, texted through the signed inbound webhook as Twilio
/// posts it, over SMS (as written) and WhatsApp (lower case, accents dropped, punctuation added, as people type).</summary>
public sealed class KeywordWebhookTests(SubscriberAppFixture fixture) : IClassFixture<SubscriberAppFixture>, IAsyncLifetime
{
    private static readonly string Number = TwilioInbound.Number(120);

    private AlertNetTestApp App => fixture.App;

    public Task InitializeAsync() => fixture.ResetAsync();

    public Task DisposeAsync() => Task.CompletedTask;

    public static TheoryData<string, KeywordKind, string, string> EveryKeyword()
    {
        var data = new TheoryData<string, KeywordKind, string, string>();
        foreach (var file in LanguageFiles.All.Values.OrderBy(f => f.Language, StringComparer.Ordinal))
        {
            foreach (var (kind, words) in file.Keywords)
            {
                foreach (var word in words)
                {
                    data.Add(file.Language, kind, word, Number);
                    data.Add(file.Language, kind, "¡" + StripAccents(word).ToLowerInvariant() + "! ", "whatsapp:" + Number);
                }
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(EveryKeyword))]
    public async Task Every_keyword_gets_its_answer_in_the_keywords_language(string language, KeywordKind kind, string text, string from)
    {
        var replies = App.Services.GetRequiredService<Replies>();
        // The word's language, unless an earlier language file lists it too (PARAR is Spanish and Portuguese).
        var owner = Keywords.Parse(text).Language!;
        switch (kind)
        {
            case KeywordKind.Join:
                Assert.Equal(replies.Get("join", owner), await fixture.TextAsync(from, text));
                Assert.Equal((owner, "active"), await SubscriptionAsync(from));
                break;

            case KeywordKind.OptOut:
                var subscribed = await JoinInAsync(from, language);
                Assert.Equal(replies.Get("optOut", subscribed), await fixture.TextAsync(from, text));
                Assert.Null(await fixture.TextAsync(from, text));
                Assert.Equal((subscribed, "opted_out"), await SubscriptionAsync(from));
                break;

            case KeywordKind.OptIn:
                var resubscribed = await JoinInAsync(from, language);
                await fixture.TextAsync(from, "STOP");
                Assert.Equal(replies.Get("optIn", resubscribed), await fixture.TextAsync(from, text));
                Assert.Equal((resubscribed, "active"), await SubscriptionAsync(from));
                break;

            case KeywordKind.Help:
                Assert.Equal(replies.Get("help", owner), await fixture.TextAsync(from, text));
                break;

            case KeywordKind.Language:
                await fixture.TextAsync(from, "JOIN");
                Assert.Equal(replies.Get("language", owner), await fixture.TextAsync(from, text));
                Assert.Equal((owner, "active"), await SubscriptionAsync(from));
                break;

            case KeywordKind.Rights:
                Assert.Equal(replies.Get("rights", owner), await fixture.TextAsync(from, text));
                break;

            case KeywordKind.Report:
                Assert.Equal(replies.Get("reportReceived", owner), await fixture.TextAsync(from, text + " agents at the school"));
                Assert.Equal(1, await CountAsync("SELECT count(*) FROM hotline_reports"));
                Assert.Equal(replies.Get("reportEmpty", owner), await fixture.TextAsync(from, text));
                break;

            case KeywordKind.Latest:
                Assert.Equal(replies.Get("latestNotSubscribed", owner), await fixture.TextAsync(from, text));
                var joined = await JoinInAsync(from, language);
                Assert.Equal(replies.Get("latestNone", joined), await fixture.TextAsync(from, text));
                break;

            case KeywordKind.Alert:
                // From a number that is not a registered organizer phone: the ordinary hint, never a clue.
                Assert.Equal(replies.Get("unknown", "en"), await fixture.TextAsync(from, text + " default agents at the school"));
                Assert.Equal(0, await CountAsync("SELECT count(*) FROM pending_sms_alerts"));
                break;

            default:
                Assert.Fail($"No expectation for {kind}.");
                break;
        }
    }

    [Fact]
    public async Task Twilios_OptOutType_is_honoured_whatever_the_text()
    {
        var number = TwilioInbound.Number(121);
        await fixture.TextAsync(number, "JOIN");

        var reply = await fixture.PostAsync(TwilioInbound.Sms(number, "Arrêtez svp", optOutType: "STOP"));

        Assert.StartsWith("Eastside Alerts: you are unsubscribed", reply, StringComparison.Ordinal);
        Assert.Equal(("en", "opted_out"), await SubscriptionAsync(number));
    }

    [Fact]
    public async Task The_join_confirmation_carries_the_program_frequency_rates_and_help_and_stop()
    {
        var english = await fixture.TextAsync(TwilioInbound.Number(122), "Join");
        var spanish = await fixture.TextAsync("whatsapp:" + TwilioInbound.Number(123), "únete");

        Assert.Equal(
            "Eastside Alerts: you are subscribed to rapid-response alerts. Msg frequency varies. Msg & data rates may apply. " +
            "Reply HELP for help, STOP to cancel. Save this number: alerts come only from it. Reply LATEST to see the latest. " +
            "Para español responde ESPANOL.", english);
        Assert.Equal(
            "Eastside Alerts: estás suscrito a las alertas de respuesta rápida. La frecuencia de mensajes varía. " +
            "Pueden aplicar tarifas de mensajes y datos. Responde AYUDA para ayuda, ALTO para cancelar. " +
            "Guarda este número: las alertas llegan solo desde él. Responde ÚLTIMO para ver las más recientes. For English reply ENGLISH.", spanish);
    }

    [Fact]
    public async Task Help_names_the_organization_and_its_contact_in_the_subscribers_language()
    {
        var number = TwilioInbound.Number(124);
        await fixture.TextAsync(number, "UNIRSE");

        var reply = await fixture.TextAsync(number, "HELP");

        Assert.Equal(
            "Eastside Alerts: alertas de respuesta rápida de Eastside Defense Committee. Contacto: eastside.example/help. " +
            "Pueden aplicar tarifas de mensajes y datos. Responde UNETE para suscribirte, ALTO para cancelar, DERECHOS para conocer tus derechos.",
            reply);
    }

    [Fact]
    public async Task Stop_gets_one_confirmation_and_then_silence_whatever_is_texted()
    {
        var number = TwilioInbound.Number(125);
        await fixture.TextAsync(number, "JOIN");

        Assert.Equal("Eastside Alerts: you are unsubscribed and will get no more messages. Reply START to subscribe again.",
            await fixture.TextAsync(number, "STOP"));
        foreach (var text in new[] { "STOP", "ALTO", "hello?", "RIGHTS", "ESPAÑOL", "REPORT agents", "STOP DEFAULT" })
        {
            Assert.Null(await fixture.TextAsync(number, text));
        }

        // Carriers require HELP to be answered, even after STOP.
        Assert.NotNull(await fixture.TextAsync(number, "HELP"));
    }

    [Fact]
    public async Task The_language_can_change_at_any_time_and_replies_follow_it()
    {
        var number = TwilioInbound.Number(126);
        await fixture.TextAsync(number, "JOIN");

        Assert.Contains("an kreyòl", await fixture.TextAsync(number, "KREYOL"), StringComparison.Ordinal);
        Assert.Contains("Kontak: eastside.example/help", await fixture.TextAsync(number, "HELP"), StringComparison.Ordinal);
        Assert.Contains("中文", await fixture.TextAsync(number, "中文"), StringComparison.Ordinal);
        Assert.Contains("了解您的权利", await fixture.TextAsync(number, "RIGHTS"), StringComparison.Ordinal);
        Assert.Contains("tiếng Việt", await fixture.TextAsync(number, "Tieng Viet"), StringComparison.Ordinal);
        Assert.Contains("العربية", await fixture.TextAsync(number, "العربية"), StringComparison.Ordinal);
        Assert.Contains("in English", await fixture.TextAsync(number, "english"), StringComparison.Ordinal);
        Assert.Equal(("en", "active"), await SubscriptionAsync(number));
    }

    private async Task<long> CountAsync(string sql)
    {
        await using var connection = await App.Db.OpenConnectionAsync();
        return await connection.ExecuteScalarAsync<long>(sql);
    }

    private async Task<(string Language, string Status)> SubscriptionAsync(string from)
    {
        var address = AlertNet.Privacy.SubscriberAddress.TryParse(from, "US")!;
        await using var connection = await App.Db.OpenConnectionAsync();
        return await connection.QuerySingleAsync<(string, string)>(
            "SELECT language, status FROM subscribers WHERE channel = @channel AND phone_index = @index",
            new { channel = address.Channel, index = App.Protector.BlindIndex(address.E164) });
    }

    /// <summary>Joins with the language's first join word (JOIN for a language without one); returns the
    /// language the subscription got.</summary>
    private async Task<string> JoinInAsync(string from, string language)
    {
        var word = LanguageFiles.All[language].Keywords.TryGetValue(KeywordKind.Join, out var words) ? words[0] : "JOIN";
        await fixture.TextAsync(from, word);
        return Keywords.Parse(word).Language!;
    }

    private static string StripAccents(string text) =>
        new(text.Normalize(NormalizationForm.FormD).Where(c => CharUnicodeInfo.GetUnicodeCategory(c) != UnicodeCategory.NonSpacingMark).ToArray());
}
