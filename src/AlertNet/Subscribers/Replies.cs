using AlertNet.Hosting;
using Microsoft.Extensions.Options;

namespace AlertNet.Subscribers;

/// <summary>Texts AlertNet sends back to subscribers. An organization may reword any of them per language
/// in configuration (<c>Replies:es:join</c>); otherwise they come from the language's file under
/// Subscribers/Replies/. Placeholders: {program}, {organization}, {contact}, {group}, and in organizer replies
/// {recipients}, {segments}, {code}, {alert}; {alerts} in the answer to LATEST, {time} in an alert's verification line.</summary>
public sealed class Replies(IOptions<AlertNetOptions> options, IConfiguration configuration)
{
    public const string ConfigurationSection = "Replies";
    private const string FallbackLanguage = "en";

    /// <summary>The placeholders a caller fills; one left unfilled becomes empty.</summary>
    public static readonly string[] ValueNames = ["group", "recipients", "segments", "code", "alert", "alerts", "time"];

    private static readonly Dictionary<string, string> EmptyValues = [];

    public IReadOnlyCollection<string> Languages => LanguageFiles.All.Keys;

    /// <summary>The reply in the language, else the organization's default language, else English.</summary>
    public string Get(string key, string? language, string? group = null) =>
        Get(key, language, group is null ? EmptyValues : new Dictionary<string, string> { ["group"] = group });

    /// <summary>The reply with its placeholders filled from <paramref name="values"/> (keyed by name, without braces).</summary>
    public string Get(string key, string? language, IReadOnlyDictionary<string, string> values)
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
                text = text
                    .Replace("{program}", settings.ProgramName, StringComparison.Ordinal)
                    .Replace("{organization}", settings.OrganizationName ?? settings.ProgramName, StringComparison.Ordinal)
                    .Replace("{contact}", settings.ContactInfo ?? "AlertNet:ContactInfo is not set", StringComparison.Ordinal);
                foreach (var name in ValueNames)
                {
                    text = text.Replace("{" + name + "}", values.TryGetValue(name, out var value) ? value : "", StringComparison.Ordinal);
                }

                return text;
            }
        }

        throw new KeyNotFoundException($"No reply text '{key}'.");
    }
}
