using System.Globalization;
using AlertNet.Hosting;
using AlertNet.Infrastructure.Auth;
using Microsoft.AspNetCore.Localization;
using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.Options;

namespace AlertNet.Web;

/// <summary>The web app for organizers, coordinators and admins: server-rendered Razor Pages that live in
/// their feature folders (Accounts/, Web/, ...), one layout (Web/_Layout.cshtml), static files from Web/static.</summary>
public static class WebSetup
{
    public const string LanguageCookie = "AlertNet.Language";

    public static IServiceCollection AddAlertNetWeb(this IServiceCollection services)
    {
        services.AddSingleton<WebText>();
        // Pages sit in feature folders, so the root is the project; each page names its own route (@page "/login").
        services.AddRazorPages(options => options.RootDirectory = "/");
        return services;
    }

    /// <summary>Before routing: HTML status pages, static files, language and security headers for pages.</summary>
    public static WebApplication UseAlertNetWeb(this WebApplication app)
    {
        if (app.Services.GetRequiredService<IOptions<AlertNetOptions>>().Value.PublicUri.Scheme == Uri.UriSchemeHttps)
        {
            // The public address is the truth (as for webhook signatures): with https there, TLS ends at a proxy in
            // front, so requests count as https, which Secure cookies and the form tokens require.
            app.Use((context, next) =>
            {
                context.Request.Scheme = Uri.UriSchemeHttps;
                return next(context);
            });
        }

        // Machines get ProblemDetails; people get a page that says what happened.
        app.UseWhen(context => ApiPaths.IsApi(context.Request.Path), api => api.UseStatusCodePages());
        app.UseWhen(context => !ApiPaths.IsApi(context.Request.Path), web => web.UseStatusCodePagesWithReExecute("/status/{0}"));

        // Embedded, so they are there however AlertNet is started; the network is closed, so no CDN.
        app.UseStaticFiles(new StaticFileOptions
        {
            FileProvider = new EmbeddedFileProvider(typeof(WebSetup).Assembly, "AlertNet.Web.static"),
            RequestPath = "/static",
            OnPrepareResponse = context => context.Context.Response.Headers.CacheControl = "no-cache",
        });

        var languages = WebText.Languages.Select(l => new CultureInfo(l.Code)).ToList();
        app.UseWhen(context => !ApiPaths.IsApi(context.Request.Path), web => web
            .UseRequestLocalization(localization =>
            {
                localization.DefaultRequestCulture = new RequestCulture(WebText.DefaultLanguage);
                localization.SupportedCultures = languages;
                localization.SupportedUICultures = languages;
                localization.RequestCultureProviders =
                [
                    new CookieRequestCultureProvider { CookieName = LanguageCookie },
                    new AcceptLanguageHeaderRequestCultureProvider(),
                ];
            })
            .Use(async (context, next) =>
            {
                if (!context.Request.Path.StartsWithSegments("/jobs", StringComparison.OrdinalIgnoreCase))
                {
                    // No inline script or style: a page that shows hostile text cannot be made to run it.
                    var headers = context.Response.Headers;
                    headers.ContentSecurityPolicy =
                        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; " +
                        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'";
                    headers.XContentTypeOptions = "nosniff";
                    headers["Referrer-Policy"] = "no-referrer";
                }
                else
                {
                    // Hangfire's dashboard needs its inline scripts, but no other site may frame it (clickjacking its
                    // buttons: delete, requeue).
                    context.Response.Headers.ContentSecurityPolicy = "frame-ancestors 'none'";
                    context.Response.Headers.XFrameOptions = "DENY";
                }

                await next(context);
            }));
        return app;
    }

    public static WebApplication MapAlertNetWeb(this WebApplication app)
    {
        app.MapRazorPages();
        return app;
    }
}
