using AlertNet.Tests.Support;
using Dapper;
using AlertNet.Privacy;

namespace AlertNet.Tests.Subscribers;

/// <summary>Text AlertNet does not understand gets a short hint at most once a day per sender, then silence.
/// The database's clock decides; a test moves the last hint back in time instead of waiting a day.</summary>
public sealed class UnknownTextHintTests(SubscriberAppFixture fixture) : IClassFixture<SubscriberAppFixture>, IAsyncLifetime
{
    private static readonly string Ana = TwilioInbound.Number(150);
    private static readonly string Beto = TwilioInbound.Number(151);

    private AlertNetTestApp App => fixture.App;

    private AlertNet.Subscribers.Replies Replies => App.Services.GetRequiredService<AlertNet.Subscribers.Replies>();

    public Task InitializeAsync() => fixture.ResetAsync();

    public Task DisposeAsync() => Task.CompletedTask;

    [Fact]
    public async Task Unknown_text_gets_the_hint_once_a_day_then_silence()
    {
        Assert.Equal("Eastside Alerts: we did not understand. Reply JOIN to get alerts, HELP for help, STOP to cancel.",
            await fixture.TextAsync(Ana, "hello, what is this?"));
        Assert.Null(await fixture.TextAsync(Ana, "hello??"));
        Assert.Null(await fixture.TextAsync("whatsapp:" + Ana, "hola"));

        await MoveLastHintBackAsync(Ana, TimeSpan.FromHours(23));
        Assert.Null(await fixture.TextAsync(Ana, "anyone there?"));

        await MoveLastHintBackAsync(Ana, TimeSpan.FromHours(1));
        Assert.Equal(Replies.Get("unknown", "en"), await fixture.TextAsync(Ana, "anyone there?"));
    }

    [Fact]
    public async Task Each_sender_gets_its_own_hint()
    {
        await fixture.TextAsync(Ana, "hi");

        Assert.Equal(Replies.Get("unknown", "en"), await fixture.TextAsync(Beto, "hi"));
    }

    [Fact]
    public async Task The_hint_is_in_the_subscribers_language()
    {
        await fixture.TextAsync(Ana, "UNETE");

        Assert.Equal(Replies.Get("unknown", "es"), await fixture.TextAsync(Ana, "¿qué es esto?"));
    }

    [Fact]
    public async Task Keywords_are_always_answered_even_after_the_days_hint()
    {
        await fixture.TextAsync(Ana, "hi");

        Assert.Equal(Replies.Get("help", "en"), await fixture.TextAsync(Ana, "HELP"));
        Assert.Equal(Replies.Get("join", "en"), await fixture.TextAsync(Ana, "JOIN"));
        Assert.Equal(Replies.Get("rights", "en"), await fixture.TextAsync(Ana, "RIGHTS"));
    }

    [Theory]
    [InlineData("ALERT default agents at 5th and Main")]
    [InlineData("YES 123456")]
    [InlineData("SÍ 123456")]
    [InlineData("STOP by the church at 5")]
    [InlineData("")]
    [InlineData("🚨🚨")]
    [InlineData("RIGHTS please")]
    public async Task Other_texts_follow_the_same_once_a_day_rule(string text)
    {
        Assert.Equal(Replies.Get("unknown", "en"), await fixture.TextAsync(Ana, text));
        Assert.Null(await fixture.TextAsync(Ana, text));
    }

    private async Task MoveLastHintBackAsync(string number, TimeSpan by)
    {
        await using var connection = await App.Db.OpenConnectionAsync();
        Assert.Equal(1, await connection.ExecuteAsync(
            "UPDATE unknown_text_hints SET last_hint_at = last_hint_at - @by WHERE phone_index = @index",
            new { by, index = App.Protector.PurposeIndex(IndexPurpose.UnknownTextHint, number) }));
    }
}
