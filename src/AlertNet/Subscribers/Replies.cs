using AlertNet.Hosting;
using Microsoft.Extensions.Options;

namespace AlertNet.Subscribers;

/// <summary>Texts AlertNet sends back to subscribers. An organization may reword any of them per language
/// in configuration (<c>Replies:es:join</c>); otherwise they come from the language's file under
/// Subscribers/Replies/. Placeholders: {program}, {organization}, {contact}, {group}.</summary>
public sealed class Replies(IOptions<AlertNetOptions> options, IConfiguration configuration)
{
    public const string ConfigurationSection = "Replies";
    private const string FallbackLanguage = "en";

    public IReadOnlyCollection<string> Languages => LanguageFiles.All.Keys;

    /// <summary>The reply in the language, else the organization's default language, else English.</summary>
    public string Get(string key, string? language, string? group = null)
    {
        var settings = options.Value;
        foreach (var candidate in new[] { language, settings.DefaultLanguage, FallbackLanguage })
        {
            if (candidate is null)
            {
                continue;
            }

            var text = configuration[$"{ConfigurationSection}:{candidate}:{key}"] is { Length: > 0 } configured
                ? configured
                : LanguageFiles.All.TryGetValue(candidate, out var file) && file.Replies.TryGetValue(key, out var shipped) ? shipped : null;
            if (text is not null)
            {
                return text
                    .Replace("{program}", settings.ProgramName, StringComparison.Ordinal)
                    .Replace("{organization}", settings.OrganizationName ?? settings.ProgramName, StringComparison.Ordinal)
                    .Replace("{contact}", settings.ContactInfo ?? "AlertNet:ContactInfo is not set", StringComparison.Ordinal)
                    .Replace("{group}", group ?? "", StringComparison.Ordinal);
            }
        }

        throw new KeyNotFoundException($"No reply text '{key}'.");
    }
}
