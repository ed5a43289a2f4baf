using System.Text.RegularExpressions;
using AlertNet.Web;

namespace AlertNet.Tests.Web;

/// <summary>The interface text files: a language offered in the switcher has every text, with the same placeholders.</summary>
public sealed partial class WebTextTests
{
    public static TheoryData<string> Languages() => new(WebText.Languages.Select(l => l.Code));

    [Fact]
    public void English_and_Spanish_are_offered()
    {
        Assert.Equal(["en", "es"], WebText.Languages.Select(l => l.Code).Where(c => c is "en" or "es"));
        Assert.Contains(WebText.Languages, l => l is ("es", "Español"));
    }

    [Theory]
    [MemberData(nameof(Languages))]
    public void Every_offered_language_has_every_text_with_the_same_placeholders(string language)
    {
        var english = WebText.All["en"];
        var texts = WebText.All[language];

        var missing = english.Keys.Where(k => !texts.ContainsKey(k)).ToList();
        Assert.True(missing.Count == 0, $"{language}: missing texts: {string.Join(", ", missing)}");
        foreach (var (key, text) in texts)
        {
            Assert.True(english.ContainsKey(key), $"{language}: '{key}' is not in the English files");
            Assert.Equal(Placeholders(english[key]), Placeholders(text));
        }
    }

    [Fact]
    public void Every_text_a_page_asks_for_exists_in_English()
    {
        // T["key"] and T["key", ...] in the .cshtml files, and text["key"...] in their page models.
        var root = Path.Combine(Support.TestCluster.RepoRoot, "src", "AlertNet");
        var used = Directory.EnumerateFiles(root, "*.cs*", SearchOption.AllDirectories)
            .Where(f => f.EndsWith(".cshtml", StringComparison.Ordinal) || f.EndsWith(".cshtml.cs", StringComparison.Ordinal))
            .SelectMany(f => TextKey().Matches(File.ReadAllText(f)).Select(m => (File: Path.GetFileName(f), Key: m.Groups[1].Value)))
            .ToList();

        Assert.NotEmpty(used);
        var unknown = used.Where(u => !WebText.All["en"].ContainsKey(u.Key)).Select(u => $"{u.File}: {u.Key}").ToList();
        Assert.True(unknown.Count == 0, "Texts missing from Strings/en.json: " + string.Join(", ", unknown));
    }

    private static string[] Placeholders(string text) => [.. Placeholder().Matches(text).Select(m => m.Value).Order(StringComparer.Ordinal)];

    [GeneratedRegex(@"\{\d+\}")]
    private static partial Regex Placeholder();

    [GeneratedRegex(@"\b(?:T|text)\[""([a-z0-9_.]+)""\s*[,\]]")]
    private static partial Regex TextKey();
}
