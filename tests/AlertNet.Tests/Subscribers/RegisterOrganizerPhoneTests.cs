using AlertNet.Hosting;
using AlertNet.Subscribers;
using AlertNet.Tests.Support;
using Dapper;
using AlertNet.Privacy;

namespace AlertNet.Tests.Subscribers;

/// <summary>register-organizer-phone: adds or removes a phone allowed to send ALERT by SMS; audited; prints the
/// number only masked.</summary>
public sealed class RegisterOrganizerPhoneTests(SubscriberAppFixture fixture) : IClassFixture<SubscriberAppFixture>, IAsyncLifetime
{
    private static readonly string Maria = TwilioInbound.Number(185);

    private AlertNetTestApp App => fixture.App;

    public Task InitializeAsync() => fixture.ResetAsync();

    public Task DisposeAsync() => Task.CompletedTask;

    [Fact]
    public async Task Registering_stores_the_phone_encrypted_audits_and_prints_it_masked()
    {
        var (exitCode, output) = await RunAsync("--phone", "(202) 555-0185", "--name", "maria", "--language", "es");

        Assert.Equal(0, exitCode);
        Assert.Equal("Registered organizer phone maria (••• ••• 0185), replies in es.", output.Trim());
        await using var connection = await App.Db.OpenConnectionAsync();
        var row = await connection.QuerySingleAsync<(long Id, string Name, byte[] Index, byte[] Cipher, string Language)>(
            "SELECT id, name, phone_index, phone_cipher, language FROM organizer_phones");
        Assert.Equal(("maria", "es"), (row.Name, row.Language));
        // Its own index, not the subscribers' blind index: a dump does not say whether an organizer is also a subscriber.
        Assert.Equal(App.Protector.PurposeIndex(IndexPurpose.OrganizerPhone, Maria), row.Index);
        Assert.NotEqual(App.Protector.BlindIndex(Maria)[^32..], row.Index[^32..]);
        Assert.Equal(Maria, App.Protector.Decrypt(row.Cipher, CipherPlaces.OrganizerPhone(row.Id)));
        Assert.Equal(("command-line", "organizer-phone:maria"), await LastAuditAsync("organizer-phone.register"));
    }

    [Fact]
    public async Task The_language_defaults_to_the_organizations()
    {
        Assert.Equal(0, (await RunAsync("--phone", Maria, "--name", "maria")).ExitCode);

        await using var connection = await App.Db.OpenConnectionAsync();
        Assert.Equal("en", await connection.ExecuteScalarAsync<string>("SELECT language FROM organizer_phones"));
    }

    [Fact]
    public async Task A_phone_or_a_name_registers_once()
    {
        await RunAsync("--phone", Maria, "--name", "maria");

        var samePhone = await RunAsync("--phone", Maria, "--name", "other");
        var sameName = await RunAsync("--phone", TwilioInbound.Number(186), "--name", "maria");

        Assert.Equal((1, "That phone is already registered as maria; remove it first (--remove --name maria)."), (samePhone.ExitCode, samePhone.Output.Trim()));
        Assert.Equal(1, sameName.ExitCode);
        Assert.Contains("already registered", sameName.Output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--name", "maria")]
    [InlineData("--phone", "+12025550185")]
    [InlineData("--phone", "not a number", "--name", "maria")]
    [InlineData("--phone", "+1202", "--name", "maria")]
    [InlineData("--phone", "+12025550185", "--name", "maria garcia")]
    [InlineData("--phone", "+12025550185", "--name", "maria", "--language", "de")]
    [InlineData("--remove")]
    public async Task Bad_arguments_exit_2_and_register_nothing(params string[] arguments)
    {
        Assert.Equal(2, (await RunAsync(arguments)).ExitCode);

        await using var connection = await App.Db.OpenConnectionAsync();
        Assert.Equal(0, await connection.ExecuteScalarAsync<long>("SELECT count(*) FROM organizer_phones"));
    }

    [Theory]
    [InlineData("--phone", "+12025550185")]
    [InlineData("--name", "maria")]
    [InlineData("--phone", "+12025550185", "--name", "maria")]
    public async Task Remove_by_phone_or_name_is_audited(params string[] which)
    {
        await RunAsync("--phone", Maria, "--name", "maria");

        var (exitCode, output) = await RunAsync(["--remove", .. which]);

        Assert.Equal(0, exitCode);
        Assert.Equal("Removed organizer phone maria (••• ••• 0185).", output.Trim());
        Assert.Equal(("command-line", "organizer-phone:maria"), await LastAuditAsync("organizer-phone.remove"));
        Assert.Equal(1, (await RunAsync(["--remove", .. which])).ExitCode);
    }

    [Fact]
    public async Task Remove_with_a_phone_and_another_organizers_name_removes_nothing()
    {
        await RunAsync("--phone", Maria, "--name", "maria");
        await RunAsync("--phone", TwilioInbound.Number(186), "--name", "lucia");

        Assert.Equal(1, (await RunAsync("--remove", "--phone", Maria, "--name", "lucia")).ExitCode);
    }

    [Fact]
    public async Task The_verb_runs_from_the_command_line()
    {
        var (exitCode, output, errors) = await App.RunCommandAsync(RegisterOrganizerPhone.Verb, "--phone", Maria, "--name", "night-shift");

        Assert.True(exitCode == 0, errors);
        Assert.Contains("Registered organizer phone night-shift (••• ••• 0185)", output, StringComparison.Ordinal);
        Assert.DoesNotContain("5550185", output, StringComparison.Ordinal);
    }

    private async Task<(int ExitCode, string Output)> RunAsync(params string[] arguments)
    {
        using var output = new StringWriter();
        var exitCode = await CommandLineVerbs.RunAsync(App.Services, CommandLineVerb.Parse([RegisterOrganizerPhone.Verb, .. arguments])!,
            output, output);
        return (exitCode, output.ToString());
    }

    private async Task<(string Actor, string Subject)> LastAuditAsync(string action)
    {
        await using var connection = await App.Db.OpenConnectionAsync();
        return await connection.QueryFirstAsync<(string, string)>(
            "SELECT actor, subject FROM audit_log WHERE action = @action ORDER BY id DESC", new { action });
    }
}
