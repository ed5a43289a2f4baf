using AlertNet.Accounts;
using AlertNet.Hosting;
using AlertNet.Web;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.HttpOverrides;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace AlertNet.Infrastructure.Auth;

public static class AuthSetup
{
    public static IServiceCollection AddAlertNetAuth(this IServiceCollection services, AlertNetOptions options)
    {
        services.AddOptions<WebOptions>().BindConfiguration(WebOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton<ApiTokens>();
        services.AddSingleton<UserAccounts>();
        services.AddSingleton<SignInThrottle>();
        // The sign-in throttle counts per client address: behind a reverse proxy that is the address it forwards.
        services.AddOptions<ForwardedHeadersOptions>().Configure<Microsoft.Extensions.Options.IOptions<WebOptions>>((forwarded, web) =>
        {
            forwarded.ForwardedHeaders = ForwardedHeaders.XForwardedFor;
            foreach (var proxy in web.Value.ForwardedForProxies)
            {
                forwarded.KnownProxies.Add(System.Net.IPAddress.Parse(proxy));
            }
        });
        services.AddAlertNetDataProtection();

        // Secure when the public address is https, whatever scheme the proxy in front of us speaks.
        var secure = options.PublicUri.Scheme == Uri.UriSchemeHttps ? CookieSecurePolicy.Always : CookieSecurePolicy.SameAsRequest;
        services.AddAntiforgery(antiforgery =>
        {
            antiforgery.Cookie.Name = "AlertNet.Antiforgery";
            antiforgery.Cookie.SameSite = SameSiteMode.Strict;
            antiforgery.Cookie.SecurePolicy = secure;
            antiforgery.HeaderName = CookieAntiforgery.HeaderName;
        });

        services.AddAuthentication(AuthSchemes.BearerOrCookie)
            .AddPolicyScheme(AuthSchemes.BearerOrCookie, "Bearer token or session cookie", policy =>
                policy.ForwardDefaultSelector = context =>
                    context.Request.Headers.Authorization.Count > 0 ? ApiTokenAuthenticationHandler.SchemeName : AuthSchemes.Cookie)
            .AddScheme<AuthenticationSchemeOptions, ApiTokenAuthenticationHandler>(ApiTokenAuthenticationHandler.SchemeName, null)
            .AddCookie(AuthSchemes.Cookie, cookie =>
            {
                cookie.Cookie.Name = "AlertNet.Session";
                cookie.Cookie.HttpOnly = true;
                cookie.Cookie.SameSite = SameSiteMode.Strict;
                cookie.Cookie.SecurePolicy = secure;
                cookie.SlidingExpiration = true;
                cookie.LoginPath = "/login";
                cookie.LogoutPath = "/logout";
                cookie.AccessDeniedPath = "/status/403";
                cookie.Events = new CookieAuthenticationEvents
                {
                    OnValidatePrincipal = CookieSessions.ValidateAsync,
                    // API callers get status codes, people get the sign-in page or a 403 page.
                    OnRedirectToLogin = context => ApiPaths.IsApi(context.Request.Path)
                        ? SetStatus(context.Response, StatusCodes.Status401Unauthorized)
                        : RedirectAsync(context),
                    OnRedirectToAccessDenied = context => SetStatus(context.Response, StatusCodes.Status403Forbidden),
                };
            })
            .AddCookie(AuthSchemes.TwoFactor, cookie =>
            {
                cookie.Cookie.Name = "AlertNet.TwoFactor";
                cookie.Cookie.HttpOnly = true;
                cookie.Cookie.SameSite = SameSiteMode.Strict;
                cookie.Cookie.SecurePolicy = secure;
                cookie.ExpireTimeSpan = TimeSpan.FromMinutes(5);
                cookie.SlidingExpiration = false;
            });
        services.AddOptions<CookieAuthenticationOptions>(AuthSchemes.Cookie)
            .Configure<Microsoft.Extensions.Options.IOptions<WebOptions>>((cookie, web) =>
                cookie.ExpireTimeSpan = TimeSpan.FromMinutes(web.Value.SessionIdleMinutes));

        services.AddAuthorizationBuilder()
            // Secure by default: a route that forgets to say who may use it is closed to anonymous callers.
            .SetFallbackPolicy(new AuthorizationPolicyBuilder().RequireAuthenticatedUser().Build())
            .AddPolicy(Policies.Organize, p => p.RequireRole(Roles.Organizer, Roles.Admin))
            .AddPolicy(Policies.Watch, p => p.RequireRole(Roles.Organizer, Roles.Coordinator, Roles.Admin))
            .AddPolicy(Policies.Administer, p => p.RequireRole(Roles.Admin))
            .AddPolicy(Policies.JobsDashboard, p => p.AddAuthenticationSchemes(AuthSchemes.Cookie).RequireRole(Roles.Admin));
        return services;
    }

    private static Task SetStatus(HttpResponse response, int status)
    {
        response.StatusCode = status;
        return Task.CompletedTask;
    }

    private static Task RedirectAsync(RedirectContext<CookieAuthenticationOptions> context)
    {
        context.Response.Redirect(context.RedirectUri);
        return Task.CompletedTask;
    }
}

/// <summary>Paths that machines call: they answer with status codes, never with a redirect or an HTML page.</summary>
public static class ApiPaths
{
    private static readonly string[] Prefixes = ["/api", "/webhooks", "/drill", "/healthz"];

    public static bool IsApi(PathString path) => Prefixes.Any(prefix => path.StartsWithSegments(prefix, StringComparison.OrdinalIgnoreCase));
}

/// <summary>The session cookie would otherwise let another site make a signed-in browser post to AlertNet (CSRF):
/// every unsafe request authenticated by the cookie, to a page or to /api, must carry the form token
/// (a form field, or the RequestVerificationToken header for fetch()). Bearer-token requests need none: a browser
/// never adds that header by itself.</summary>
public static class CookieAntiforgery
{
    public const string HeaderName = "RequestVerificationToken";

    public static IApplicationBuilder UseCookieAntiforgery(this IApplicationBuilder app) =>
        app.Use(async (context, next) =>
        {
            if (context.User.Identity is { IsAuthenticated: true, AuthenticationType: AuthSchemes.Cookie }
                && !HttpMethods.IsGet(context.Request.Method) && !HttpMethods.IsHead(context.Request.Method)
                && !HttpMethods.IsOptions(context.Request.Method) && !HttpMethods.IsTrace(context.Request.Method)
                && context.Features.Get<Microsoft.AspNetCore.Diagnostics.IStatusCodeReExecuteFeature>() is null)
            {
                var antiforgery = context.RequestServices.GetRequiredService<IAntiforgery>();
                if (!await antiforgery.IsRequestValidAsync(context))
                {
                    // Pages get the 400 page through the status-code pages; machines get the reason.
                    context.Response.StatusCode = StatusCodes.Status400BadRequest;
                    if (ApiPaths.IsApi(context.Request.Path))
                    {
                        await Results.Problem("The form token (RequestVerificationToken) is missing or out of date: reload the page and try again.",
                            statusCode: StatusCodes.Status400BadRequest).ExecuteAsync(context);
                    }

                    return;
                }
            }

            await next(context);
        });
}
