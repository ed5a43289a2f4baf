namespace AlertNet.Hosting;

/// <summary>A command-line verb such as <c>create-token --name ops --role organizer</c>.
/// Arguments after the verb belong to it; arguments before it configure the host.</summary>
public sealed record CommandLineVerb(string Name, IReadOnlyDictionary<string, string> Options)
{
    public static readonly string[] Known =
    [
        "create-token", "migrate", Accounts.CreateUser.Verb, Subscribers.RegisterOrganizerPhone.Verb,
        Privacy.RetentionJob.Verb, Privacy.PurgeSubscribers.Verb, Privacy.KeyRotation.Verb,
    ];

    public static CommandLineVerb? Parse(string[] args)
    {
        var at = Array.FindIndex(args, a => Known.Contains(a));
        if (at < 0)
        {
            return null;
        }

        var options = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        for (var i = at + 1; i < args.Length; i++)
        {
            if (!args[i].StartsWith("--", StringComparison.Ordinal))
            {
                continue;
            }

            var key = args[i][2..];
            var value = i + 1 < args.Length && !args[i + 1].StartsWith("--", StringComparison.Ordinal) ? args[++i] : "true";
            options[key] = value;
        }

        return new CommandLineVerb(args[at], options);
    }

    /// <summary>The arguments that configure the host: everything before the verb.</summary>
    public static string[] HostArguments(string[] args)
    {
        var at = Array.FindIndex(args, a => Known.Contains(a));
        return at < 0 ? args : args[..at];
    }

    public string? Option(string name) => Options.TryGetValue(name, out var value) ? value : null;
}
