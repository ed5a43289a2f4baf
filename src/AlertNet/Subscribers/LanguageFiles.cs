using System.Collections.Frozen;
using System.Text.Json;

namespace AlertNet.Subscribers;

/// <summary>One language's file under Subscribers/Replies/ (embedded in the assembly): the keywords a
/// subscriber may text in that language and the replies AlertNet sends back. A translator adds a
/// language by adding one file; no code changes.</summary>
/// <param name="Status">The file's "_status" marker, e.g. "draft: needs review by a native speaker"; null when reviewed.</param>
public sealed record LanguageFile(
    string Language,
    string? Status,
    IReadOnlyDictionary<KeywordKind, IReadOnlyList<string>> Keywords,
    IReadOnlyDictionary<string, string> Replies);

public static class LanguageFiles
{
    private const string ResourcePrefix = "AlertNet.Subscribers.Replies.";

    private static readonly Lazy<FrozenDictionary<string, LanguageFile>> Loaded = new(LoadEmbedded);

    /// <summary>Every shipped language, keyed by code (the file name: fr.json is "fr").</summary>
    public static FrozenDictionary<string, LanguageFile> All => Loaded.Value;

    /// <summary>Reads one file. Top-level keys starting with "_" are notes for people; "keywords" maps a
    /// keyword kind (join, optOut, optIn, help, language, rights, report, alert) to its words; every other
    /// key is a reply text.</summary>
    public static LanguageFile Parse(string language, Stream json)
    {
        using var document = JsonDocument.Parse(json);
        string? status = null;
        var keywords = new Dictionary<KeywordKind, IReadOnlyList<string>>();
        var replies = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var property in document.RootElement.EnumerateObject())
        {
            if (property.Name == "_status")
            {
                status = property.Value.GetString();
            }
            else if (property.Name.StartsWith('_'))
            {
                continue;
            }
            else if (property.Name == "keywords")
            {
                foreach (var kind in property.Value.EnumerateObject())
                {
                    if (!Enum.TryParse<KeywordKind>(kind.Name, ignoreCase: true, out var parsed) || parsed is KeywordKind.Unknown or KeywordKind.LeaveGroup)
                    {
                        throw new InvalidDataException($"Subscribers/Replies/{language}.json: unknown keyword kind '{kind.Name}'.");
                    }

                    keywords[parsed] = kind.Value.EnumerateArray().Select(word => word.GetString()!).ToList();
                }
            }
            else
            {
                replies[property.Name] = property.Value.GetString()
                    ?? throw new InvalidDataException($"Subscribers/Replies/{language}.json: '{property.Name}' is not a text.");
            }
        }

        return new LanguageFile(language, status, keywords, replies);
    }

    private static FrozenDictionary<string, LanguageFile> LoadEmbedded()
    {
        var assembly = typeof(LanguageFiles).Assembly;
        return assembly.GetManifestResourceNames()
            .Where(name => name.StartsWith(ResourcePrefix, StringComparison.Ordinal) && name.EndsWith(".json", StringComparison.Ordinal))
            .Select(name =>
            {
                using var stream = assembly.GetManifestResourceStream(name)!;
                return Parse(name[ResourcePrefix.Length..^".json".Length], stream);
            })
            .ToFrozenDictionary(file => file.Language, StringComparer.Ordinal);
    }
}
