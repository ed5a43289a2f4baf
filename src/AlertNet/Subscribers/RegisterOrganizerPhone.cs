using AlertNet.Hosting;
using AlertNet.Privacy;
using Microsoft.Extensions.Options;

namespace AlertNet.Subscribers;

/// <summary>The command-line verb that lets a phone send organizer commands by SMS, or stops it:
/// <c>register-organizer-phone --phone +12025550100 --name maria [--language es]</c>,
/// <c>register-organizer-phone --remove --phone +12025550100</c> (or <c>--name maria</c>). Audited.</summary>
public static class RegisterOrganizerPhone
{
    public const string Verb = "register-organizer-phone";

    private const string Usage =
        "usage: register-organizer-phone --phone +E164 --name NAME [--language CODE]\n" +
        "       register-organizer-phone --remove (--phone +E164 | --name NAME)";

    public static async Task<int> RunAsync(IServiceProvider services, CommandLineVerb verb, TextWriter output, TextWriter errors)
    {
        var options = services.GetRequiredService<IOptions<AlertNetOptions>>().Value;
        var phones = services.GetRequiredService<OrganizerPhones>();
        var audit = services.GetRequiredService<AuditLog>();
        var rawPhone = verb.Option("phone");
        var phone = rawPhone is null ? null : SubscriberAddress.TryParse(rawPhone, options.DefaultRegion);
        var name = verb.Option("name");
        if (rawPhone is not null && phone is null)
        {
            await errors.WriteLineAsync("--phone is not a phone number.");
            return 2;
        }

        if (verb.Option("remove") == "true")
        {
            if (phone is null && name is null)
            {
                await errors.WriteLineAsync(Usage);
                return 2;
            }

            if (await phones.RemoveAsync(phone?.E164, name, CancellationToken.None) is not { } removed)
            {
                await errors.WriteLineAsync("No organizer phone is registered with that number or name.");
                return 1;
            }

            await audit.RecordAsync("command-line", "organizer-phone.remove", $"organizer-phone:{removed.Name}", null, CancellationToken.None);
            await output.WriteLineAsync($"Removed organizer phone {removed.Name} ({removed.MaskedPhone}).");
            return 0;
        }

        var language = verb.Option("language") ?? options.DefaultLanguage;
        if (phone is null || !OrganizerPhones.IsValidName(name) || !LanguageFiles.All.ContainsKey(language))
        {
            await errors.WriteLineAsync(Usage);
            await errors.WriteLineAsync($"NAME: letters, digits, . _ - (at most 60); CODE: one of {string.Join(", ", LanguageFiles.All.Keys.Order(StringComparer.Ordinal))}.");
            return 2;
        }

        switch (await phones.RegisterAsync(phone.E164, name!, language, CancellationToken.None))
        {
            case OrganizerPhones.RegisterResult.Registered registered:
                await audit.RecordAsync("command-line", "organizer-phone.register", $"organizer-phone:{registered.Phone.Name}",
                    new { language }, CancellationToken.None);
                await output.WriteLineAsync(
                    $"Registered organizer phone {registered.Phone.Name} ({PersonalDataProtector.Mask(phone.E164)}), replies in {language}.");
                return 0;
            case OrganizerPhones.RegisterResult.Rejected rejected:
                await errors.WriteLineAsync(rejected.Reason);
                return 1;
            default:
                throw new InvalidOperationException("Unexpected result.");
        }
    }
}
