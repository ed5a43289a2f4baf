using AlertNet.Infrastructure.Auth;
using AlertNet.Privacy;

namespace AlertNet.Hosting;

/// <summary>Administration from the command line: <c>dotnet run --project src/AlertNet -- VERB ...</c>.</summary>
public static class CommandLineVerbs
{
    public static async Task<int> RunAsync(IServiceProvider services, CommandLineVerb verb, TextWriter output, TextWriter errors)
    {
        switch (verb.Name)
        {
            case "create-token":
                var name = verb.Option("name");
                var role = verb.Option("role");
                if (string.IsNullOrWhiteSpace(name) || role is null || !Roles.All.Contains(role))
                {
                    await errors.WriteLineAsync($"usage: create-token --name NAME --role {string.Join('|', Roles.All)}");
                    return 2;
                }

                var token = await services.GetRequiredService<ApiTokens>().CreateAsync(name, role, CancellationToken.None);
                await services.GetRequiredService<AuditLog>().RecordAsync("command-line", "token.create", $"token:{name}", new { role }, CancellationToken.None);
                // Shown once: only its hash is stored.
                await output.WriteLineAsync(token);
                return 0;
            case Accounts.CreateUser.Verb:
                return await Accounts.CreateUser.RunAsync(services, verb, Console.In, output, errors);
            case "migrate":
                // AlertNet's migrations ran before any verb (RunAlertNetAsync); Hangfire installs its schema when its
                // storage is first built. A deployment's migration step runs this alone.
                _ = services.GetRequiredService<Hangfire.JobStorage>();
                await output.WriteLineAsync("The database schema is up to date.");
                return 0;
            case Subscribers.RegisterOrganizerPhone.Verb:
                return await Subscribers.RegisterOrganizerPhone.RunAsync(services, verb, output, errors);
            case RetentionJob.Verb:
                var retained = await services.GetRequiredService<RetentionJob>().RunAsync("command-line", CancellationToken.None);
                await output.WriteLineAsync(retained is null ? "A retention run is already going on elsewhere; nothing done." : $"Retention: {retained}");
                return 0;
            case PurgeSubscribers.Verb:
                return await PurgeSubscribers.RunAsync(services, verb, Console.In, output, errors);
            case KeyRotation.Verb:
                return await KeyRotation.RunAsync(services, verb, output, errors);
            default:
                await errors.WriteLineAsync($"unknown verb {verb.Name}");
                return 2;
        }
    }
}
