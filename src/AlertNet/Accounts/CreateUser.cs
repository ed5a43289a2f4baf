using AlertNet.Hosting;
using AlertNet.Infrastructure.Auth;
using AlertNet.Privacy;

namespace AlertNet.Accounts;

/// <summary>The command-line verb that creates a web app account, the first admin above all:
/// <c>create-user --name NAME --role admin [--password-stdin]</c>. With --password-stdin the password is the first
/// line of standard input; otherwise one is generated and printed once. There is never a default password.</summary>
public static class CreateUser
{
    public const string Verb = "create-user";

    public static async Task<int> RunAsync(IServiceProvider services, CommandLineVerb verb, TextReader input, TextWriter output, TextWriter errors)
    {
        var name = verb.Option("name");
        var role = verb.Option("role");
        if (!UserAccounts.IsValidName(name) || role is null || !Roles.All.Contains(role))
        {
            await errors.WriteLineAsync($"usage: {Verb} --name NAME --role {string.Join('|', Roles.All)} [--password-stdin]");
            await errors.WriteLineAsync("NAME: letters, digits, . _ - (at most 60). Without --password-stdin a password is generated and printed once.");
            return 2;
        }

        var fromInput = verb.Option("password-stdin") == "true";
        var password = fromInput ? (await input.ReadLineAsync())?.TrimEnd('\r') ?? "" : UserAccounts.GeneratePassword();
        if (password.Length < UserAccounts.MinPasswordLength)
        {
            await errors.WriteLineAsync($"The password must have at least {UserAccounts.MinPasswordLength} characters.");
            return 2;
        }

        if (await services.GetRequiredService<UserAccounts>().CreateAsync(name!, role, password, CancellationToken.None) is null)
        {
            await errors.WriteLineAsync($"An account named {name} already exists.");
            return 1;
        }

        await services.GetRequiredService<AuditLog>().RecordAsync("command-line", "user.create", $"user:{name}", new { role }, CancellationToken.None);
        await output.WriteLineAsync($"Created {role} {name}. Sign in at /login.");
        if (!fromInput)
        {
            // Shown once: only its hash is stored.
            await output.WriteLineAsync("Password (shown once):");
            await output.WriteLineAsync(password);
        }

        return 0;
    }
}
