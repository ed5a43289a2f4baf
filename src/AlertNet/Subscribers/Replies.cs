using System.Collections.Frozen;
using System.Text.Json;
using AlertNet.Hosting;
using Microsoft.Extensions.Options;

namespace AlertNet.Subscribers;

/// <summary>Texts AlertNet sends back to subscribers, one JSON file per language under Replies/
/// (embedded in the assembly), so a translator adds a language by adding a file.</summary>
public sealed class Replies
{
    private const string FallbackLanguage = "en";
    private readonly FrozenDictionary<string, Dictionary<string, string>> _byLanguage;
    private readonly AlertNetOptions _options;

    public Replies(IOptions<AlertNetOptions> options)
    {
        _options = options.Value;
        var assembly = typeof(Replies).Assembly;
        const string prefix = "AlertNet.Subscribers.Replies.";
        _byLanguage = assembly.GetManifestResourceNames()
            .Where(name => name.StartsWith(prefix, StringComparison.Ordinal) && name.EndsWith(".json", StringComparison.Ordinal))
            .ToFrozenDictionary(
                name => name[prefix.Length..^".json".Length],
                name =>
                {
                    using var stream = assembly.GetManifestResourceStream(name)!;
                    return JsonSerializer.Deserialize<Dictionary<string, string>>(stream)!;
                });
    }

    public IReadOnlyCollection<string> Languages => _byLanguage.Keys;

    public string Get(string key, string? language)
    {
        foreach (var candidate in new[] { language, _options.DefaultLanguage, FallbackLanguage })
        {
            if (candidate is not null && _byLanguage.TryGetValue(candidate, out var texts) && texts.TryGetValue(key, out var text))
            {
                return text.Replace("{program}", _options.ProgramName, StringComparison.Ordinal);
            }
        }

        throw new KeyNotFoundException($"No reply text '{key}'.");
    }
}
