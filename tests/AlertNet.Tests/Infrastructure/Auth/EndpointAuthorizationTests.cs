using System.Net;
using System.Text;
using System.Text.RegularExpressions;
using AlertNet.Infrastructure.Auth;
using AlertNet.Tests.Support;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Routing.Patterns;

namespace AlertNet.Tests.Infrastructure.Auth;

/// <summary>Every route the app serves, read from its EndpointDataSource (so a route added later is covered
/// without anyone remembering to), called as anonymous, coordinator, organizer and admin, with the session cookie
/// (and the form token, as a page would send it) and for /api also with a Bearer token, against the table below.</summary>
public sealed partial class EndpointAuthorizationTests : IAsyncLifetime
{
    /// <summary>Who may call what. Key: "METHOD /pattern" as the endpoint declares it; pages, which take any
    /// method, are "* /pattern" and are tried with GET and POST. A new route fails the test until it is added here.</summary>
    private static readonly Dictionary<string, Access> Expected = new()
    {
        ["GET /healthz"] = Access.Anonymous,
        ["GET /readyz"] = Access.Anonymous,
        // Twilio's webhooks: no account, but a request without Twilio's signature is refused.
        ["POST /webhooks/twilio/inbound"] = Access.TwilioSignature,
        ["POST /webhooks/twilio/status"] = Access.TwilioSignature,
        // The drill carrier simulator (drill mode only; see the live-mode test) checks Twilio's own Basic auth.
        ["POST /drill/twilio/2010-04-01/Accounts/{accountSid}/Messages.json"] = Access.TwilioBasicAuth,
        ["GET /drill/twilio/2010-04-01/Accounts/{accountSid}/Messages.json"] = Access.TwilioBasicAuth,
        ["GET /drill/twilio/2010-04-01/Accounts/{accountSid}/Messages/{sid}.json"] = Access.TwilioBasicAuth,
        ["DELETE /drill/twilio/2010-04-01/Accounts/{accountSid}/Messages/{sid}.json"] = Access.TwilioBasicAuth,

        ["POST /api/alerts"] = Access.Organize,
        ["POST /api/alerts/preview"] = Access.Organize,
        ["GET /api/alerts/{id:long}"] = Access.Watch,
        ["POST /api/alerts/{id:long}/cancel"] = Access.Organize,
        ["POST /api/alerts/{id:long}/follow-ups"] = Access.Organize,
        ["POST /api/alerts/{id:long}/approve"] = Access.Organize,
        ["POST /api/alerts/{id:long}/reject"] = Access.Organize,
        ["POST /api/alerts/test-send"] = Access.Organize,
        ["GET /api/alerts/{id:long}/dashboard"] = Access.Watch,
        ["GET /api/alerts/{id:long}/events"] = Access.Watch,
        ["GET /api/approvals"] = Access.Watch,
        ["GET /api/overview"] = Access.Watch,
        ["POST /api/campaigns"] = Access.Organize,
        ["GET /api/campaigns"] = Access.Watch,
        ["DELETE /api/campaigns/{id:long}"] = Access.Organize,
        ["PUT /api/campaigns/{id:long}"] = Access.Organize,
        ["POST /api/campaigns/{id:long}/approve"] = Access.Organize,
        ["POST /api/campaigns/{id:long}/reject"] = Access.Organize,
        ["POST /api/groups"] = Access.Organize,
        ["GET /api/groups"] = Access.Watch,
        ["PUT /api/groups/{name}/quiet-hours"] = Access.Organize,
        ["GET /api/hotline"] = Access.Watch,
        ["POST /api/hotline/{id:long}/review"] = Access.Watch,
        ["POST /api/hotline/{id:long}/same-sighting"] = Access.Watch,
        ["GET /api/audit"] = Access.Admin,
        ["POST /api/admin/purge-subscribers"] = Access.Admin,
        // The drill phone simulator (drill mode only; see the live-mode test).
        ["POST /api/drill/phone/text"] = Access.Watch,
        ["POST /api/drill/phone/messages"] = Access.Watch,

        ["* /login"] = Access.Anonymous,
        ["* /login/code"] = Access.Anonymous,
        ["* /login/setup"] = Access.Anonymous,
        ["* /language"] = Access.Anonymous,
        ["* /status/{code:int}"] = Access.Anonymous,
        ["* /"] = Access.Watch,
        ["* /logout"] = Access.Watch,
        ["* /account"] = Access.Watch,
        ["* /account/two-factor"] = Access.Watch,
        ["* /alerts/new"] = Access.Organize,
        ["* /alerts/{id:long}"] = Access.Watch,
        ["* /approvals"] = Access.Watch,
        ["* /hotline"] = Access.Watch,
        // Coordinators read the library; its edit, send and schedule answer them 403.
        ["* /rights"] = Access.Watch,
        ["* /phone-simulator"] = Access.Watch,
        ["* /admin/users"] = Access.Admin,
        ["* /admin/tokens"] = Access.Admin,
        ["* /admin/audit"] = Access.Admin,
        // Hangfire's dashboard: an admin with a session cookie; an admin's API token is not enough.
        ["* /jobs/{**path}"] = Access.AdminSession,
    };

    private static readonly string[] Callers = ["anonymous", Roles.Coordinator, Roles.Organizer, Roles.Admin];

    private AlertNetTestApp _app = null!;

    public enum Access
    {
        Anonymous,
        Watch,
        Organize,
        Admin,
        AdminSession,
        TwilioSignature,
        TwilioBasicAuth,
    }

    public async Task InitializeAsync() => _app = await AlertNetTestApp.StartAsync();

    public async Task DisposeAsync() => await _app.DisposeAsync();

    [Fact]
    public void Every_route_is_in_the_access_table_and_the_table_names_only_real_routes()
    {
        var routes = Routes(_app.Services).Select(r => r.Key).ToHashSet();

        var missing = routes.Where(r => !Expected.ContainsKey(r)).Order(StringComparer.Ordinal).ToList();
        Assert.True(missing.Count == 0,
            "Routes missing from EndpointAuthorizationTests.Expected (say who may call them):\n  " + string.Join("\n  ", missing));
        var stale = Expected.Keys.Where(k => !routes.Contains(k)).Order(StringComparer.Ordinal).ToList();
        Assert.True(stale.Count == 0, "EndpointAuthorizationTests.Expected names routes the app does not serve:\n  " + string.Join("\n  ", stale));
    }

    [Fact]
    public async Task Every_route_admits_exactly_the_callers_its_entry_allows()
    {
        var sessions = new Dictionary<string, Session>();
        var bearers = new Dictionary<string, HttpClient>();
        foreach (var role in Roles.All)
        {
            sessions[role] = await SignInAsync(role);
            bearers[role] = await _app.ClientWithRoleAsync(role);
        }

        var failures = new List<string>();
        foreach (var (key, method, path, json) in Routes(_app.Services).Where(r => Expected.ContainsKey(r.Key)))
        {
            var access = Expected[key];
            foreach (var caller in Callers)
            {
                var session = caller == "anonymous" ? null : sessions[caller];
                var response = await SendAsync(method, path, json, session);
                if (key == "* /logout" && method == "POST" && session is not null)
                {
                    // Signing out ends the session on the server: the routes after this one need a new one.
                    sessions[caller] = await SignInAsync(caller);
                }

                var problem = Judge(access, caller, path, response, viaBearer: false);
                if (problem is not null)
                {
                    failures.Add($"{method} {path} as {caller} (cookie): {problem}");
                }

                if (path.StartsWith("/api/", StringComparison.Ordinal) && caller != "anonymous")
                {
                    using var request = Request(method, path, json);
                    var bearerResponse = await bearers[caller].SendAsync(request);
                    problem = Judge(access, caller, path, bearerResponse, viaBearer: true);
                    if (problem is not null)
                    {
                        failures.Add($"{method} {path} as {caller} (Bearer): {problem}");
                    }
                }
            }
        }

        Assert.True(failures.Count == 0, "Access different from EndpointAuthorizationTests.Expected:\n  " + string.Join("\n  ", failures));
    }

    [Fact]
    public async Task The_drill_simulator_routes_exist_only_in_drill_mode_and_sign_in_works_in_live_mode()
    {
        Assert.Contains(Routes(_app.Services), r => r.Path.StartsWith("/drill/", StringComparison.Ordinal));

        await using var live = await AlertNetTestApp.StartAsync("web", new Dictionary<string, string?>
        {
            ["AlertNet:Mode"] = "live",
            ["AlertNet:ContactInfo"] = "help@example.org",
            ["Twilio:AccountSid"] = "AC" + new string('1', 32),
            ["Twilio:AuthToken"] = "live-token-for-the-test",
            ["Twilio:From"] = "+15005550006",
            ["Twilio:ApiBaseUrl"] = "http://127.0.0.1:9",
        });

        Assert.DoesNotContain(Routes(live.Services), r => r.Path.StartsWith("/drill", StringComparison.OrdinalIgnoreCase)
            || r.Path.StartsWith("/api/drill", StringComparison.OrdinalIgnoreCase));
        using var admin = await WebSession.SignInAsync(live, Roles.Admin);
        Assert.Equal(HttpStatusCode.OK, (await admin.Client.GetAsync("/admin/users")).StatusCode);
        var simulator = await admin.Client.GetAsync("/phone-simulator");
        Assert.Equal(HttpStatusCode.NotFound, simulator.StatusCode);
        Assert.DoesNotContain("/phone-simulator", await (await admin.Client.GetAsync("/")).Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    /// <summary>Null when the answer fits the access rule, else what is wrong with it.</summary>
    private static string? Judge(Access access, string caller, string path, HttpResponseMessage response, bool viaBearer)
    {
        var status = (int)response.StatusCode;
        var location = response.Headers.Location?.OriginalString ?? "";
        var sentToLogin = status == 302 && LoginRedirect().IsMatch(location);
        var machinePath = ApiPaths.IsApi(path);
        var answer = sentToLogin ? $"302 to {location}" : status.ToString(System.Globalization.CultureInfo.InvariantCulture);

        if (machinePath && status == 302)
        {
            return $"a machine route must answer with a status code, not a redirect ({answer})";
        }

        switch (access)
        {
            case Access.TwilioSignature:
                return status == 403 ? null : $"expected 403 (no Twilio signature), got {answer}";
            case Access.TwilioBasicAuth:
                return status == 401 ? null : $"expected 401 (no Twilio Basic auth), got {answer}";
        }

        var admitted = access switch
        {
            Access.Anonymous => true,
            Access.Watch => caller != "anonymous",
            Access.Organize => caller is Roles.Organizer or Roles.Admin,
            Access.Admin => caller == Roles.Admin,
            Access.AdminSession => caller == Roles.Admin && !viaBearer,
            _ => throw new ArgumentOutOfRangeException(nameof(access)),
        };
        if (admitted)
        {
            return status is 401 or 403 || sentToLogin ? $"expected to be let in, got {answer}" : null;
        }

        if (caller == "anonymous")
        {
            return machinePath
                ? status == 401 ? null : $"expected 401, got {answer}"
                : sentToLogin ? null : $"expected a redirect to /login, got {answer}";
        }

        return status == 403 ? null : $"expected 403, got {answer}";
    }

    /// <summary>Every endpoint as (table key, method to try, a concrete path with sample route values).</summary>
    private static List<Route> Routes(IServiceProvider services)
    {
        var routes = new List<Route>();
        foreach (var endpoint in services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>())
        {
            var pattern = "/" + endpoint.RoutePattern.RawText!.TrimStart('/');
            var path = SamplePath(endpoint.RoutePattern);
            // A body of the type the endpoint reads (else routing answers 415 before authorization is asked).
            var json = endpoint.Metadata.GetMetadata<IAcceptsMetadata>()?.ContentTypes.Contains("application/json") == true;
            if (endpoint.Metadata.GetMetadata<IHttpMethodMetadata>() is { HttpMethods.Count: > 0 } methods)
            {
                routes.AddRange(methods.HttpMethods.Select(method => new Route($"{method} {pattern}", method, path, json)));
            }
            else
            {
                routes.Add(new Route($"* {pattern}", "GET", path, json));
                routes.Add(new Route($"* {pattern}", "POST", path, json));
            }
        }

        return routes;
    }

    private static string SamplePath(RoutePattern pattern)
    {
        var path = new StringBuilder();
        foreach (var segment in pattern.PathSegments)
        {
            path.Append('/');
            foreach (var part in segment.Parts)
            {
                path.Append(part switch
                {
                    RoutePatternLiteralPart literal => literal.Content,
                    RoutePatternSeparatorPart separator => separator.Content,
                    // Ids that do not exist: an admitted caller gets 404 or 400, never a change to real data.
                    RoutePatternParameterPart parameter when parameter.ParameterPolicies.Any(p => p.Content is "int" or "long") => "999999",
                    RoutePatternParameterPart => "sample",
                    _ => "",
                });
            }
        }

        return path.Length == 0 ? "/" : path.ToString();
    }

    private static HttpRequestMessage Request(string method, string path, bool json) =>
        new(new HttpMethod(method), path)
        {
            // Empty: an admitted caller gets a 4xx for it, and nothing changes.
            Content = method is "GET" or "HEAD" ? null
                : json ? new StringContent("{}", Encoding.UTF8, "application/json")
                : new FormUrlEncodedContent([]),
        };

    private async Task<HttpResponseMessage> SendAsync(string method, string path, bool json, Session? session)
    {
        // The cookie is sent as a fixed header: a route that signs out (POST /logout) must not end the session
        // for the routes tried after it.
        using var client = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false, UseCookies = false })
        {
            BaseAddress = new Uri(_app.BaseUrl),
        };
        using var request = Request(method, path, json);
        if (session is not null)
        {
            request.Headers.Add("Cookie", session.Cookies);
            request.Headers.Add(CookieAntiforgery.HeaderName, session.FormToken);
        }

        return await client.SendAsync(request);
    }

    private async Task<Session> SignInAsync(string role)
    {
        using var session = await WebSession.SignInAsync(_app, role);
        return new Session(session.Cookies.GetCookieHeader(new Uri(_app.BaseUrl)), session.FormToken);
    }

    [GeneratedRegex(@"^(https?://[^/]+)?/login\?ReturnUrl=")]
    private static partial Regex LoginRedirect();

    private sealed record Session(string Cookies, string FormToken);

    private sealed record Route(string Key, string Method, string Path, bool Json);
}
