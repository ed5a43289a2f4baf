using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;

namespace AlertNet.Infrastructure.Auth;

public static class AuthSetup
{
    public static IServiceCollection AddAlertNetAuth(this IServiceCollection services)
    {
        services.AddSingleton<ApiTokens>();
        services.AddAuthentication(ApiTokenAuthenticationHandler.SchemeName)
            .AddScheme<AuthenticationSchemeOptions, ApiTokenAuthenticationHandler>(ApiTokenAuthenticationHandler.SchemeName, null);
        services.AddAuthorizationBuilder()
            // Secure by default: a route that forgets to say who may use it is closed to anonymous callers.
            .SetFallbackPolicy(new AuthorizationPolicyBuilder().RequireAuthenticatedUser().Build())
            .AddPolicy(Policies.Organize, p => p.RequireRole(Roles.Organizer, Roles.Admin))
            .AddPolicy(Policies.Watch, p => p.RequireRole(Roles.Organizer, Roles.Coordinator, Roles.Admin));
        return services;
    }
}
