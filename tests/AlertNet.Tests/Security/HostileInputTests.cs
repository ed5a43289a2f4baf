using System.Collections.Concurrent;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using AlertNet.Infrastructure.Auth;
using AlertNet.Tests.Support;
using Dapper;
using AlertNet.Privacy;

namespace AlertNet.Tests.Security;

/// <summary>Injection strings, oversized and malformed payloads in every text field of the API and of the Twilio webhooks:
/// each gets a clear 4xx or a correct answer, what is accepted is stored exactly as sent, and nothing answers 500.
/// A web-only host (no workers), so accepted alerts stay as stored.</summary>
public sealed class HostileInputTests : IAsyncLifetime
{
    /// <summary>What attackers and broken phones send.</summary>
    public static readonly string[] Hostile =
    [
        "'; DROP TABLE subscribers; --",
        "' OR '1'='1",
        "1); DELETE FROM alerts; --",
        "$1 %s %n {0} {{7*7}} ${jndi:ldap://x}",
        "<script>alert(1)</script>",
        "\"><img src=x onerror=alert(1)>",
        "\u0001\u0002\u0007\b\u001b[31mred\u007f",
        "line\r\nX-Injected: header",
        "nul\u0000byte",
        "\u0000",
        "\u202Egnp.exe\u202C \u200F\u200E\u2066isolate\u2069",
        "\u200B\u200C\u200D\uFEFF",
        "\uD800 lone surrogate",
        new string('ñ', 2000),
        string.Concat(Enumerable.Repeat("😀", 1700)),
        string.Concat(Enumerable.Repeat("مرحبا ", 400)),
        new string('a', 100_000),
        "",
        "   ",
    ];

    /// <summary>Kestrel's default KestrelServerLimits.MaxRequestLineSize (8 KB).</summary>
    private const int KestrelMaxRequestLine = 8 * 1024;

    private AlertNetTestApp _app = null!;
    private HttpClient _organizer = null!;
    private readonly ConcurrentBag<string> _serverErrors = [];

    public async Task InitializeAsync()
    {
        _app = await AlertNetTestApp.StartAsync(role: "web");
        _organizer = await _app.ClientWithRoleAsync(Roles.Admin);
    }

    public async Task DisposeAsync()
    {
        _organizer.Dispose();
        await _app.DisposeAsync();
    }

    [Fact]
    public async Task Hostile_text_in_any_API_field_gets_a_4xx_or_is_stored_exactly_as_sent()
    {
        var requests = new List<(string Field, string Value, HttpMethod Method, string Path, JsonObject? Json)>();
        foreach (var value in Hostile)
        {
            requests.Add(("alert type", value, HttpMethod.Post, "/api/alerts", Alert(type: value)));
            requests.Add(("alert group", value, HttpMethod.Post, "/api/alerts", Alert(group: value)));
            requests.Add(("alert body", value, HttpMethod.Post, "/api/alerts", Alert(body: value)));
            requests.Add(("alert language", value, HttpMethod.Post, "/api/alerts", Alert(language: value)));
            requests.Add(("preview group", value, HttpMethod.Post, "/api/alerts/preview", Alert(group: value)));
            requests.Add(("preview body", value, HttpMethod.Post, "/api/alerts/preview", Alert(body: value)));
            requests.Add(("group name", value, HttpMethod.Post, "/api/groups", new JsonObject { ["name"] = value }));
            requests.Add(("group keyword", value, HttpMethod.Post, "/api/groups",
                new JsonObject { ["name"] = "g" + Guid.NewGuid().ToString("N")[..8], ["keywords"] = new JsonArray(value) }));
            requests.Add(("quiet-hours group", value, HttpMethod.Put, $"/api/groups/{Uri.EscapeDataString(value)}/quiet-hours",
                new JsonObject { ["start"] = "21:00", ["end"] = "08:00", ["timeZone"] = "America/New_York" }));
            requests.Add(("quiet-hours start", value, HttpMethod.Put, "/api/groups/default/quiet-hours",
                new JsonObject { ["start"] = value, ["end"] = "08:00", ["timeZone"] = "America/New_York" }));
            requests.Add(("quiet-hours time zone", value, HttpMethod.Put, "/api/groups/default/quiet-hours",
                new JsonObject { ["start"] = "21:00", ["end"] = "08:00", ["timeZone"] = value }));
            requests.Add(("campaign name", value, HttpMethod.Post, "/api/campaigns", Campaign(name: value)));
            requests.Add(("campaign cron", value, HttpMethod.Post, "/api/campaigns", Campaign(cron: value)));
            requests.Add(("campaign time zone", value, HttpMethod.Post, "/api/campaigns", Campaign(timeZone: value)));
            requests.Add(("campaign body", value, HttpMethod.Post, "/api/campaigns", Campaign(body: value)));
            requests.Add(("hotline review status", value, HttpMethod.Post, "/api/hotline/1/review", new JsonObject { ["status"] = value }));
            requests.Add(("hotline paging", value, HttpMethod.Get, $"/api/hotline?before={Uri.EscapeDataString(value)}&limit={Uri.EscapeDataString(value)}", null));
            requests.Add(("alert id", value, HttpMethod.Get, $"/api/alerts/{Uri.EscapeDataString(value)}", null));
        }

        var accepted = new ConcurrentBag<(string Field, string Value, JsonElement Answer)>();
        await Parallel.ForEachAsync(requests, new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (r, cancellationToken) =>
        {
            // Written by hand: a JSON serializer would replace a lone surrogate with U+FFFD before it is sent.
            using var request = new HttpRequestMessage(r.Method, r.Path)
            {
                Content = r.Json is null ? null
                    : new StringContent(r.Json.ToJsonString().Replace("\\uFFFD", "\\uD800", StringComparison.Ordinal), Encoding.UTF8, "application/json"),
            };
            using var response = await _organizer.SendAsync(request, cancellationToken);
            var answer = await response.Content.ReadAsStringAsync(cancellationToken);
            Check(r.Field, r.Value, response, answer, inUrl: r.Json is null || r.Path.Contains(Uri.EscapeDataString(r.Value), StringComparison.Ordinal));
            if (response.IsSuccessStatusCode && r.Method != HttpMethod.Get)
            {
                accepted.Add((r.Field, r.Value, JsonDocument.Parse(answer).RootElement.Clone()));
            }
        });

        Assert.True(_serverErrors.IsEmpty, string.Join('\n', _serverErrors.Order(StringComparer.Ordinal)));
        await using var connection = await _app.Db.OpenConnectionAsync();
        foreach (var (field, value, answer) in accepted.Where(a => a.Field == "alert body"))
        {
            var stored = await connection.ExecuteScalarAsync<string>("SELECT bodies->>'en' FROM alerts WHERE id = @id",
                new { id = answer.GetProperty("id").GetInt64() });
            Assert.True(stored == value, $"{field}: stored differently: {JsonSerializer.Serialize(value[..Math.Min(60, value.Length)])} as {JsonSerializer.Serialize(stored?[..Math.Min(60, stored.Length)])}");
        }

        foreach (var (field, value, _) in accepted.Where(a => a.Field == "group name"))
        {
            Assert.True(await connection.ExecuteScalarAsync<bool>("SELECT EXISTS (SELECT 1 FROM groups WHERE name = @value)", new { value }),
                $"{field}: not stored as sent");
        }

        // The SQL strings did nothing to the schema.
        Assert.Equal(0, await connection.ExecuteScalarAsync<int>("SELECT count(*) FROM subscribers"));
        Assert.True(await connection.ExecuteScalarAsync<long>("SELECT count(*) FROM alerts") >= 0);
    }

    [Fact]
    public async Task Malformed_and_oversized_API_payloads_get_a_4xx()
    {
        var bodies = new (string Name, HttpContent Content)[]
        {
            ("not JSON", new StringContent("{\"type\": ", Encoding.UTF8, "application/json")),
            ("a JSON array", new StringContent("[1, 2, 3]", Encoding.UTF8, "application/json")),
            ("wrong types", new StringContent("{\"type\": 5, \"bodies\": [\"en\"], \"groups\": \"default\"}", Encoding.UTF8, "application/json")),
            ("a number too big", new StringContent("{\"type\": \"urgent\", \"expiresInMinutes\": 99999999999999999999}", Encoding.UTF8, "application/json")),
            ("deeply nested", new StringContent(new string('[', 5000) + new string(']', 5000), Encoding.UTF8, "application/json")),
            ("invalid UTF-8", new ByteArrayContent([0x7B, 0x22, 0x74, 0x79, 0x70, 0x65, 0x22, 0x3A, 0x22, 0xC3, 0x28, 0x22, 0x7D]) { Headers = { { "Content-Type", "application/json" } } }),
            ("plain text", new StringContent("type=urgent", Encoding.UTF8, "text/plain")),
            ("a form", new FormUrlEncodedContent(new Dictionary<string, string> { ["type"] = "urgent" })),
            ("empty", new StringContent("", Encoding.UTF8, "application/json")),
            ("40 MB", new StringContent("{\"type\":\"urgent\",\"bodies\":{\"en\":\"" + new string('a', 40_000_000) + "\"}}", Encoding.UTF8, "application/json")),
        };

        foreach (var path in new[] { "/api/alerts", "/api/alerts/preview", "/api/groups", "/api/campaigns" })
        {
            foreach (var (name, content) in bodies)
            {
                using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = await CopyAsync(content) };
                HttpResponseMessage response;
                try
                {
                    response = await _organizer.SendAsync(request);
                }
                catch (HttpRequestException) when (name == "40 MB")
                {
                    // Kestrel answered 413 and closed the connection while the client was still sending: refused.
                    continue;
                }

                var status = (int)response.StatusCode;
                response.Dispose();
                Assert.True(status is >= 400 and < 500, $"{path} with {name}: {status}");
            }
        }
    }

    [Fact]
    public async Task Hostile_text_in_any_webhook_field_gets_a_4xx_or_the_right_answer_and_is_stored_exactly_as_sent()
    {
        var fields = new[] { "Body", "From", "To", "MessageSid", "OptOutType", "NumMedia", "ProfileName", "WaId", "MediaUrl0" };
        // A lone surrogate cannot be written in a UTF-8 form at all (the client cannot encode it), so no webhook carries one.
        var formable = Hostile.Where(value => !value.Contains('\uD800', StringComparison.Ordinal)).ToList();
        var cases = formable.SelectMany(value => fields.Select(field => (Field: field, Value: value))).ToList();
        var stored = new ConcurrentBag<(string Sid, string Body)>();

        await Parallel.ForEachAsync(cases, new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (c, cancellationToken) =>
        {
            var form = AlertNetTestApp.InboundFields("+12025550177", "HELP");
            form[c.Field] = c.Value;
            using var response = await _app.PostSignedAsync("/webhooks/twilio/inbound", form);
            var answer = await response.Content.ReadAsStringAsync(cancellationToken);
            Check("inbound " + c.Field, c.Value, response, answer);
            if (response.StatusCode == HttpStatusCode.OK)
            {
                Assert.Equal("text/xml", response.Content.Headers.ContentType?.MediaType);
                // The reply is well-formed TwiML whatever came in (no markup echoed unescaped).
                AlertNetTestApp.ReplyText(answer);
                stored.Add((form["MessageSid"], form["Body"]));
            }
        });

        var statusFields = new[] { "MessageStatus", "MessageSid", "ErrorCode", "To" };
        await Parallel.ForEachAsync(formable.SelectMany(value => statusFields.Select(field => (Field: field, Value: value))),
            new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (c, cancellationToken) =>
            {
                var form = new Dictionary<string, string> { ["MessageSid"] = "SM1", ["MessageStatus"] = "delivered", ["To"] = "+12025550177" };
                form[c.Field] = c.Value;
                var path = $"/webhooks/twilio/status?deliveryId={Uri.EscapeDataString(c.Value)}";
                HttpResponseMessage response;
                try
                {
                    response = await _app.PostSignedAsync(path, form);
                }
                catch (HttpRequestException) when (path.Length > KestrelMaxRequestLine)
                {
                    // Kestrel answers a request line over its limit with 414 and closes the connection at once; a client
                    // still writing the rest of a 100 KB URL then gets a broken pipe instead of reading the 414. Refused
                    // either way, and AlertNet never saw it.
                    return;
                }

                using (response)
                {
                    Check("status " + c.Field, c.Value, response, await response.Content.ReadAsStringAsync(cancellationToken), inUrl: true);
                }
            });

        Assert.True(_serverErrors.IsEmpty, string.Join('\n', _serverErrors.Order(StringComparer.Ordinal)));
        await using var connection = await _app.Db.OpenConnectionAsync();
        foreach (var (sid, body) in stored)
        {
            var row = await connection.QuerySingleAsync<(long Id, byte[]? Cipher)>("SELECT id, body_cipher FROM inbound_messages WHERE sid_hash = @hash",
                new { hash = _app.Protector.PurposeIndex(IndexPurpose.InboundMessageSid, sid) });
            // Stored once, as sent (an empty body is stored as none).
            Assert.Equal(string.IsNullOrEmpty(body) ? null : body, row.Cipher is null ? null : _app.Protector.Decrypt(row.Cipher, CipherPlaces.InboundText(row.Id)));
        }
    }

    private void Check(string field, string value, HttpResponseMessage response, string answer, bool inUrl = false)
    {
        var status = (int)response.StatusCode;
        var shown = value.Length > 40 ? value[..40] + $"… ({value.Length} chars)" : value;
        if (status >= 500 || status < 200 || status is >= 300 and < 400)
        {
            _serverErrors.Add($"{field} = {JsonSerializer.Serialize(shown)}: {status} {answer[..Math.Min(200, answer.Length)]}");
        }
        else if (status >= 400 && status != 404 && string.IsNullOrWhiteSpace(answer) && !inUrl)
        {
            // A 4xx must say why. Not when the value was in the URL: Kestrel refuses a NUL (400) or a URL too long (414) by
            // the status alone, before AlertNet sees the request; 404 needs no more.
            _serverErrors.Add($"{field} = {JsonSerializer.Serialize(shown)}: {status} without a reason");
        }
    }

    private static JsonObject Alert(string type = "urgent", string group = "default", string language = "en", string body = "Raid reported") => new()
    {
        ["type"] = type,
        ["groups"] = new JsonArray(group),
        ["bodies"] = new JsonObject { [language] = body },
    };

    private static JsonObject Campaign(string? name = null, string cron = "0 18 * * 1", string timeZone = "America/New_York", string body = "Know your rights") => new()
    {
        ["name"] = name ?? "c" + Guid.NewGuid().ToString("N")[..8],
        ["cron"] = cron,
        ["timeZone"] = timeZone,
        ["groups"] = new JsonArray("default"),
        ["bodies"] = new JsonObject { ["en"] = body },
    };

    private static async Task<HttpContent> CopyAsync(HttpContent content)
    {
        var bytes = await content.ReadAsByteArrayAsync();
        var copy = new ByteArrayContent(bytes);
        foreach (var header in content.Headers)
        {
            copy.Headers.TryAddWithoutValidation(header.Key, header.Value);
        }

        return copy;
    }
}
