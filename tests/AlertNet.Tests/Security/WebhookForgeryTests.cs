using System.Collections.Concurrent;
using System.Net;
using System.Security.Cryptography;
using AlertNet.Infrastructure.Twilio;
using AlertNet.Tests.Support;
using Dapper;
using Microsoft.AspNetCore.Routing;

namespace AlertNet.Tests.Security;

/// <summary>Over a thousand forged, tampered, replayed-with-a-change and unsigned requests against every Twilio webhook:
/// none is accepted and none changes anything. A web-only host, so nothing in the background touches the rows.</summary>
public sealed class WebhookForgeryTests : IAsyncLifetime
{
    private const string Inbound = "/webhooks/twilio/inbound";
    private const string Status = "/webhooks/twilio/status";
    private const int RequestsPerRoute = 600;

    private AlertNetTestApp _app = null!;
    private long _deliveryId;

    public async Task InitializeAsync()
    {
        _app = await AlertNetTestApp.StartAsync(role: "web");
        // A delivery Twilio has accepted but not yet reported on: a forged "delivered" or "failed" would move it.
        await using var connection = await _app.Db.OpenConnectionAsync();
        _deliveryId = await connection.ExecuteScalarAsync<long>(
            """
            WITH alert AS (
                INSERT INTO alerts (type, bodies, target_groups, state, recipients, created_by)
                VALUES ('urgent', '{"en": "Raid reported"}', '{}', 'done', 1, 'test') RETURNING id)
            INSERT INTO deliveries (alert_id, channel, language, state, twilio_sid)
            SELECT id, 'sms', 'en', 'accepted', 'SM00000000000000000000000000000001' FROM alert
            RETURNING id
            """);
    }

    public async Task DisposeAsync() => await _app.DisposeAsync();

    [Fact]
    public void Every_webhook_route_is_covered_here()
    {
        var routes = _app.Services.GetServices<EndpointDataSource>()
            .SelectMany(source => source.Endpoints).OfType<RouteEndpoint>()
            .Select(endpoint => "/" + endpoint.RoutePattern.RawText?.TrimStart('/'))
            .Where(route => route.StartsWith("/webhooks/", StringComparison.Ordinal))
            .ToHashSet();

        Assert.Equal(new HashSet<string> { Inbound, Status }, routes);
    }

    [Fact]
    public async Task Forged_tampered_replayed_and_unsigned_webhooks_are_all_refused_and_change_nothing()
    {
        var random = new Random(20260);
        var requests = Enumerable.Range(0, RequestsPerRoute)
            .SelectMany(i => new[] { Forge(Inbound, i, random), Forge(Status, i, random) })
            .ToList();
        var answers = new ConcurrentBag<(string Attack, HttpStatusCode Status)>();

        await Parallel.ForEachAsync(requests, new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (forged, cancellationToken) =>
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, forged.PathAndQuery) { Content = new FormUrlEncodedContent(forged.Fields) };
            if (forged.Signature is not null)
            {
                request.Headers.TryAddWithoutValidation("X-Twilio-Signature", forged.Signature);
            }

            using var response = await _app.Http.SendAsync(request, cancellationToken);
            answers.Add((forged.Attack, response.StatusCode));
        });

        Assert.True(requests.Count >= 1000);
        Assert.Empty(answers.Where(a => a.Status != HttpStatusCode.Forbidden).Select(a => $"{a.Attack}: {(int)a.Status}").Distinct());
        await AssertNothingStoredAsync();

        // The control: the same kind of request, signed as Twilio signs it, is taken. Without it this test could not fail.
        var genuine = await _app.PostSignedAsync($"{Status}?deliveryId={_deliveryId}", StatusFields("delivered"));
        Assert.Equal(HttpStatusCode.OK, genuine.StatusCode);
        await using var connection = await _app.Db.OpenConnectionAsync();
        Assert.Equal("delivered", await connection.ExecuteScalarAsync<string>("SELECT state FROM deliveries WHERE id = @_deliveryId", new { _deliveryId }));
    }

    private async Task AssertNothingStoredAsync()
    {
        await using var connection = await _app.Db.OpenConnectionAsync();
        var stored = await connection.QuerySingleAsync<(long Inbound, long Subscribers, long OptOuts, long Reports, string State)>(
            """
            SELECT (SELECT count(*) FROM inbound_messages), (SELECT count(*) FROM subscribers), (SELECT count(*) FROM opt_outs),
                   (SELECT count(*) FROM hotline_reports), (SELECT state FROM deliveries WHERE id = @_deliveryId)
            """, new { _deliveryId });
        Assert.Equal((0L, 0L, 0L, 0L, "accepted"), stored);
    }

    private sealed record ForgedRequest(string Attack, string PathAndQuery, Dictionary<string, string> Fields, string? Signature);

    /// <summary>One hostile request, by turn one of nine kinds of attack.</summary>
    private ForgedRequest Forge(string route, int i, Random random)
    {
        var pathAndQuery = route == Status ? $"{Status}?deliveryId={_deliveryId}" : Inbound;
        var fields = route == Status
            ? StatusFields(random.Next(2) == 0 ? "delivered" : "failed")
            : AlertNetTestApp.InboundFields($"+1202555{random.Next(1000, 9999)}", Pick(random, "JOIN", "STOP", "REPORT agents at 5th", "HELP", "YES 123456"));
        var token = _app.Settings["Twilio:DrillAuthToken"]!;
        var url = _app.BaseUrl + pathAndQuery;
        string Sign(string signedUrl, IDictionary<string, string> signed, string key) => TwilioSignature.Compute(key, signedUrl, signed);

        switch (i % 9)
        {
            case 0:
                return new ForgedRequest("unsigned", pathAndQuery, fields, null);
            case 1:
                return new ForgedRequest("empty signature", pathAndQuery, fields, Pick(random, "", " ", "\t"));
            case 2:
                return new ForgedRequest("random signature", pathAndQuery, fields, Convert.ToBase64String(RandomNumberGenerator.GetBytes(20)));
            case 3:
                return new ForgedRequest("signed with another token", pathAndQuery, fields, Sign(url, fields, Guid.NewGuid().ToString("N")));
            case 4:
            {
                // Signed as Twilio would, then one field's value changed on the way.
                var signature = Sign(url, fields, token);
                var key = fields.Keys.ElementAt(random.Next(fields.Count));
                fields[key] = fields[key] + Pick(random, "1", " ", "x", "'; DROP TABLE subscribers; --");
                return new ForgedRequest($"tampered {key}", pathAndQuery, fields, signature);
            }

            case 5:
            {
                // A genuine request replayed with a parameter added or removed.
                var signature = Sign(url, fields, token);
                if (random.Next(2) == 0)
                {
                    fields["OptOutType"] = "STOP";
                }
                else
                {
                    fields.Remove(fields.Keys.ElementAt(random.Next(fields.Count)));
                }

                return new ForgedRequest("replayed with a parameter added or removed", pathAndQuery, fields, signature);
            }

            case 6:
            {
                // A genuine status callback replayed against another delivery (the id is in the signed URL).
                var signature = Sign(url, fields, token);
                var other = route == Status ? $"{Status}?deliveryId={_deliveryId + 1 + random.Next(1000)}" : Inbound + "?x=1";
                return new ForgedRequest("replayed to another URL", other, fields, signature);
            }

            case 7:
                // Signed over a URL that is not AlertNet's public address (scheme, host or port changed).
                return new ForgedRequest("signed over another address", pathAndQuery, fields,
                    Sign(Pick(random, url.Replace("http://", "https://", StringComparison.Ordinal), "http://evil.example" + pathAndQuery, url + ":443"), fields, token));
            default:
            {
                // A signature for the other webhook route replayed here.
                var otherRoute = route == Status ? Inbound : $"{Status}?deliveryId={_deliveryId}";
                return new ForgedRequest("signature of the other webhook", pathAndQuery, fields, Sign(_app.BaseUrl + otherRoute, fields, token));
            }
        }
    }

    private static Dictionary<string, string> StatusFields(string status) => new()
    {
        ["MessageSid"] = "SM00000000000000000000000000000001",
        ["MessageStatus"] = status,
        ["AccountSid"] = TwilioSettings.DrillAccountSid,
        ["To"] = "+12025550123",
        ["From"] = TwilioSettings.DrillFrom,
    };

    private static string Pick(Random random, params string[] choices) => choices[random.Next(choices.Length)];
}
