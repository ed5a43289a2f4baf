using System.Net;
using System.Text.RegularExpressions;
using AlertNet.Accounts;
using AlertNet.Infrastructure.Auth;
using AlertNet.Tests.Support;
using Dapper;

namespace AlertNet.Tests.Accounts;

/// <summary>Wrong passwords slow guessing down per login name and per client address, with waits that grow, and never
/// lock anyone out: an organizer's own browser signs in whatever strangers try. Every name answers alike. Client
/// addresses come from X-Forwarded-For, which AlertNet takes from a proxy on loopback, as the test client is.</summary>
public sealed partial class SignInThrottleTests : IAsyncLifetime
{
    private AlertNetTestApp _app = null!;

    public async Task InitializeAsync() => _app = await AlertNetTestApp.StartAsync(overrides: new Dictionary<string, string?>
    {
        ["Web:SignInFailuresPerName"] = "3",
        ["Web:SignInFailuresPerAddress"] = "6",
        // Long waits, so none runs out during a test.
        ["Web:SignInDelaySeconds"] = "600",
        ["Web:SignInMaxDelaySeconds"] = "600",
    });

    public async Task DisposeAsync() => await _app.DisposeAsync();

    [Fact]
    public async Task Failures_from_anywhere_hold_back_guesses_at_an_organizer_but_never_their_own_browser()
    {
        var name = await CreateAsync(Roles.Organizer);
        using var own = WebSession.Anonymous(_app, name);
        Assert.Equal(HttpStatusCode.Redirect, (await SignInAsync(own, name, WebSession.Password, "192.0.2.10")).StatusCode);
        await own.RefreshFormTokenAsync("/");
        Assert.Equal(HttpStatusCode.Redirect, (await own.PostFormAsync("/logout", [])).StatusCode); // the device cookie stays

        // Twenty wrong passwords from twenty addresses (any one address alone stays under its own limit).
        var answers = new List<HttpStatusCode>();
        for (var i = 1; i <= 20; i++)
        {
            using var attacker = WebSession.Anonymous(_app);
            answers.Add((await SignInAsync(attacker, name, "guess " + i, $"203.0.113.{i}")).StatusCode);
        }

        Assert.Equal([HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.OK], answers.Take(3));
        Assert.All(answers.Skip(3), status => Assert.Equal(HttpStatusCode.TooManyRequests, status));
        // During the wait even the right password is refused unchecked from elsewhere: guessing gains nothing.
        using var stranger = WebSession.Anonymous(_app);
        var right = await SignInAsync(stranger, name, WebSession.Password, "203.0.113.99");
        Assert.Equal(HttpStatusCode.TooManyRequests, right.StatusCode);
        Assert.Contains("Too many failed sign-in attempts", await right.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        // The organizer's own browser (it signed in as this name before) gets in at once, and the account is not locked.
        var mine = await SignInAsync(own, name, WebSession.Password, "192.0.2.10");
        Assert.Equal(HttpStatusCode.Redirect, mine.StatusCode);
        Assert.Equal("/", mine.Headers.Location!.OriginalString);
        Assert.Null((await _app.Services.GetRequiredService<UserAccounts>().ListAsync(CancellationToken.None)).Single(u => u.Name == name).LockedUntil);
    }

    [Fact]
    public async Task An_unknown_name_and_a_locked_one_get_the_same_answer()
    {
        var locked = await CreateAsync(Roles.Organizer);
        await using (var connection = await _app.Db.OpenConnectionAsync())
        {
            // Locked as five wrong authenticator codes lock an account.
            await connection.ExecuteAsync("UPDATE users SET locked_until = now() + interval '15 minutes' WHERE name = @locked", new { locked });
        }

        var unknown = "nobody-" + Guid.NewGuid().ToString("N")[..8];
        for (var attempt = 1; attempt <= 4; attempt++)
        {
            // The fourth is held back by the name's count: the wait reads the same for both names too.
            using var first = WebSession.Anonymous(_app);
            using var second = WebSession.Anonymous(_app);
            var a = await SignInAsync(first, locked, "wrong " + attempt, $"198.51.100.{attempt}");
            var b = await SignInAsync(second, unknown, "wrong " + attempt, $"198.51.100.{100 + attempt}");

            Assert.Equal(a.StatusCode, b.StatusCode);
            // The wait counts down: on a busy machine the second answer may come a second later than the first.
            var answerA = Answer(await a.Content.ReadAsStringAsync());
            var answerB = Answer(await b.Content.ReadAsStringAsync());
            Assert.Equal(WithoutSeconds(answerA), WithoutSeconds(answerB));
            Assert.Equal(attempt <= 3 ? "Wrong login name or password." : "Too many failed sign-in attempts. Wait N seconds, then try again.",
                WithoutSeconds(answerA));
            if (attempt == 4)
            {
                Assert.InRange(Seconds(answerA), 590, 600);
                Assert.InRange(Seconds(answerB), 590, 600);
            }
        }
    }

    [Fact]
    public async Task One_address_trying_many_names_is_held_back_while_others_are_not()
    {
        var statuses = new List<HttpStatusCode>();
        for (var i = 1; i <= 8; i++)
        {
            using var attacker = WebSession.Anonymous(_app);
            statuses.Add((await SignInAsync(attacker, $"spray-{i}-{Guid.NewGuid():N}"[..16], "wrong", "198.51.100.200")).StatusCode);
        }

        Assert.Equal(Enumerable.Repeat(HttpStatusCode.OK, 6).Concat(Enumerable.Repeat(HttpStatusCode.TooManyRequests, 2)), statuses);
        using var someoneElse = WebSession.Anonymous(_app);
        var name = await CreateAsync(Roles.Coordinator);
        Assert.Equal(HttpStatusCode.Redirect, (await SignInAsync(someoneElse, name, WebSession.Password, "198.51.100.201")).StatusCode);
    }

    [Fact]
    public async Task Each_further_failure_doubles_the_wait()
    {
        await using var app = await AlertNetTestApp.StartAsync(overrides: new Dictionary<string, string?>
        {
            ["Web:SignInFailuresPerName"] = "1",
            // 4 s, not 1: on a busy machine the held attempt must still land inside the first wait.
            ["Web:SignInDelaySeconds"] = "4",
            ["Web:SignInMaxDelaySeconds"] = "3600",
        });
        var name = "target-" + Guid.NewGuid().ToString("N")[..8];
        var waits = new List<int>();
        for (var failure = 1; failure <= 3; failure++)
        {
            using var browser = WebSession.Anonymous(app);
            // Wait out the previous wait (an attempt during it is refused and not counted), then fail once more.
            var answer = await Eventually.ValueAsync(() => SignInAsync(browser, name, "wrong", "192.0.2.50"),
                response => response.StatusCode == HttpStatusCode.OK, TimeSpan.FromSeconds(30), () => "the wait to run out");
            Assert.Contains("Wrong login name or password.", await answer.Content.ReadAsStringAsync(), StringComparison.Ordinal);
            var held = await SignInAsync(browser, name, "wrong", "192.0.2.50");
            Assert.Equal(HttpStatusCode.TooManyRequests, held.StatusCode);
            waits.Add(int.Parse(held.Headers.GetValues("Retry-After").Single(), System.Globalization.CultureInfo.InvariantCulture));
        }

        // Retry-After is what is left of each wait when the held attempt arrives: 4, 8, 16 s minus the time in between.
        Assert.Collection(waits,
            w => Assert.InRange(w, 3, 4),
            w => Assert.InRange(w, 5, 8),
            w => Assert.InRange(w, 9, 16));
    }

    private async Task<string> CreateAsync(string role)
    {
        var name = $"{role}-{Guid.NewGuid():N}"[..20];
        Assert.NotNull(await _app.Services.GetRequiredService<UserAccounts>().CreateAsync(name, role, WebSession.Password, CancellationToken.None));
        return name;
    }

    private static async Task<HttpResponseMessage> SignInAsync(WebSession browser, string name, string password, string address)
    {
        await browser.RefreshFormTokenAsync("/login");
        using var request = new HttpRequestMessage(HttpMethod.Post, "/login")
        {
            Content = new FormUrlEncodedContent(new Dictionary<string, string>
            {
                ["name"] = name,
                ["password"] = password,
                ["__RequestVerificationToken"] = browser.FormToken,
            }),
        };
        request.Headers.Add("X-Forwarded-For", address);
        var response = await browser.Client.SendAsync(request);
        await response.Content.LoadIntoBufferAsync();
        return response;
    }

    private static string Answer(string html) => WebUtility.HtmlDecode(AlertText().Match(html).Groups[1].Value);

    [GeneratedRegex("""role="alert">([^<]*)<""")]
    private static partial Regex AlertText();

    private static string WithoutSeconds(string answer) =>
        Regex.Replace(answer, @"\d+ seconds", "N seconds");

    private static int Seconds(string answer) =>
        int.Parse(Regex.Match(answer, @"(\d+) seconds").Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
}
