using AlertNet.Delivery;

namespace AlertNet.Alerts;

/// <summary>The texts of an alert or campaign, one per language: the checks every way of sending one shares.</summary>
public static class AlertBodies
{
    /// <summary>Which text a person in <paramref name="language"/> gets: theirs, else the default language's, else the
    /// first there is.</summary>
    public static string LanguageFor(IReadOnlyDictionary<string, string> bodies, string? language, string defaultLanguage) =>
        language is not null && bodies.ContainsKey(language) ? language : bodies.ContainsKey(defaultLanguage) ? defaultLanguage : bodies.Keys.First();

    /// <summary>Why the bodies cannot be sent, or null when they can.</summary>
    public static string? Problem(IReadOnlyDictionary<string, string>? bodies)
    {
        if (bodies is null || bodies.Count == 0 || bodies.Values.Any(string.IsNullOrWhiteSpace))
        {
            return "bodies needs at least one language with a text, e.g. {\"en\": \"...\"}.";
        }

        if (bodies.Keys.Any(language => language.Length is < 2 or > 8))
        {
            return "bodies must be keyed by language code, e.g. en, es.";
        }

        return bodies.Values.Any(SmsSegments.IsTooLong)
            ? $"A body is longer than {SmsSegments.MaxBodyLength} characters, Twilio's limit."
            : null;
    }
}
