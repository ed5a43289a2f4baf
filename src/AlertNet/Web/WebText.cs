using System.Collections.Frozen;
using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace AlertNet.Web;

/// <summary>The web app's interface text. Each feature folder keeps a Strings/ folder with one JSON file per
/// language (Web/Strings/es.json, Accounts/Strings/es.json, ...), embedded at build: a translator adds a language
/// by adding files, no code. A language is offered when Web/Strings has its file; a text missing from a
/// language's files shows in English.</summary>
public sealed partial class WebText
{
    public const string DefaultLanguage = "en";

    private static readonly Lazy<FrozenDictionary<string, FrozenDictionary<string, string>>> Loaded = new(LoadEmbedded);

    /// <summary>Offered languages: code and the language's own name (its files' "_language").</summary>
    public static IReadOnlyList<(string Code, string Name)> Languages { get; } =
        [.. Loaded.Value.Where(l => l.Value.ContainsKey("_language")).Select(l => (l.Key, l.Value["_language"])).OrderBy(l => l.Key, StringComparer.Ordinal)];

    /// <summary>Every text of every language, keyed by language code.</summary>
    public static FrozenDictionary<string, FrozenDictionary<string, string>> All => Loaded.Value;

    /// <summary>The text in the request's language (see UseRequestLocalization), else in English.</summary>
    public string this[string key] => Lookup(CultureInfo.CurrentUICulture.Name, key)
        ?? Lookup(CultureInfo.CurrentUICulture.TwoLetterISOLanguageName, key)
        ?? Lookup(DefaultLanguage, key)
        ?? key;

    /// <summary>A text with {0}, {1}... placeholders.</summary>
    public string this[string key, params object[] values] => string.Format(CultureInfo.CurrentCulture, this[key], values);

    public static string CurrentLanguage =>
        All.ContainsKey(CultureInfo.CurrentUICulture.Name) ? CultureInfo.CurrentUICulture.Name : CultureInfo.CurrentUICulture.TwoLetterISOLanguageName;

    private static string? Lookup(string language, string key) =>
        All.TryGetValue(language, out var texts) && texts.TryGetValue(key, out var text) ? text : null;

    private static FrozenDictionary<string, FrozenDictionary<string, string>> LoadEmbedded()
    {
        var assembly = typeof(WebText).Assembly;
        var languages = new Dictionary<string, Dictionary<string, string>>(StringComparer.Ordinal);
        foreach (var resource in assembly.GetManifestResourceNames())
        {
            if (ResourceName().Match(resource) is not { Success: true } match)
            {
                continue;
            }

            var language = match.Groups["language"].Value;
            var texts = languages.TryGetValue(language, out var existing) ? existing : languages[language] = new(StringComparer.Ordinal);
            using var stream = assembly.GetManifestResourceStream(resource)!;
            using var document = JsonDocument.Parse(stream);
            foreach (var property in document.RootElement.EnumerateObject())
            {
                var text = property.Value.GetString() ?? throw new InvalidDataException($"{resource}: '{property.Name}' is not a text.");
                // "_language" names the language once (in Web/Strings); other "_" keys are notes for translators.
                if (property.Name.StartsWith('_') && property.Name != "_language")
                {
                    continue;
                }

                if (!texts.TryAdd(property.Name, text) && property.Name != "_language")
                {
                    throw new InvalidDataException($"{resource}: '{property.Name}' is also defined in another Strings file.");
                }
            }
        }

        return languages.ToFrozenDictionary(l => l.Key, l => l.Value.ToFrozenDictionary(StringComparer.Ordinal), StringComparer.Ordinal);
    }

    // AlertNet.<Feature>.Strings.<language>.json
    [GeneratedRegex(@"^AlertNet\.(?<feature>[A-Za-z0-9_.]+)\.Strings\.(?<language>[a-z]{2,3}(-[A-Za-z0-9]+)?)\.json$")]
    private static partial Regex ResourceName();
}
