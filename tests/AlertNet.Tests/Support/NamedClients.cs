using System.Net.Http.Headers;
using AlertNet.Infrastructure.Auth;

namespace AlertNet.Tests.Support;

public static class NamedClients
{
    /// <summary>An API client for a token with this name and role: two organizers are two names (ClientWithRoleAsync
    /// names every token after its role, which makes every organizer the same person to the approval rule).</summary>
    public static async Task<HttpClient> ClientAsAsync(this AlertNetTestApp app, string name, string role)
    {
        var token = await app.Services.GetRequiredService<ApiTokens>().CreateAsync(name, role, CancellationToken.None);
        var client = new HttpClient { BaseAddress = new Uri(app.BaseUrl) };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return client;
    }
}
