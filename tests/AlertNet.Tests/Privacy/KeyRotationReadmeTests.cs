using System.Net;
using System.Text.RegularExpressions;
using AlertNet.Accounts;
using AlertNet.Hosting;
using AlertNet.Infrastructure.Auth;
using AlertNet.Privacy;
using AlertNet.Subscribers;
using AlertNet.Tests.Support;
using Dapper;
using OtpNet;

namespace AlertNet.Tests.Privacy;

/// <summary>README "Key rotation", followed step by step on one database: a new key made current with the old one kept
/// as an old key, rotate-keys, the old encryption key removed. Afterwards everything still works, two-step sign-in
/// included (before, TOTP secrets and the data-protection keys stayed under the removed key: every sign-in answered 500).</summary>
public sealed partial class KeyRotationReadmeTests
{
    private const string Ana = "+12025550171";
    private const string Ben = "+12025550172";
    private const string Maria = "+12025550173";
    private const string Password = "a long enough password";

    [Fact]
    public async Task After_the_readme_steps_and_removing_the_old_encryption_key_everything_works_two_step_sign_in_included()
    {
        var database = await TestCluster.CreateMigratedDatabaseAsync();
        try
        {
            await FollowTheReadmeAsync(database);
        }
        finally
        {
            await TestCluster.DropDatabaseAsync(database);
        }
    }

    private static async Task FollowTheReadmeAsync(string database)
    {
        // Before: key 0, data in every encrypted column.
        var first = await AlertNetTestApp.StartAsync(database: database);
        var (oldEncryption, oldIndex) = (first.Settings["AlertNet:EncryptionKey"]!, first.Settings["AlertNet:BlindIndexKey"]!);
        var secret = UserAccounts.NewTotpSecret();
        string userName;
        await using (first)
        {
            await RegisterOrganizerPhoneAsync(first, Maria);
            foreach (var (from, text) in new[]
                     {
                         (Ana, "JOIN"), ("whatsapp:" + Ana, "JOIN"), (Ben, "REPORT agents at the clinic"), (Ana, "what is this"),
                         (Maria, "ALERT DEFAULT Agents at the clinic"),
                     })
            {
                await first.TextAsync(from, text);
            }

            var users = first.Services.GetRequiredService<UserAccounts>();
            var user = (await users.CreateAsync("rotating-admin", Roles.Admin, Password, CancellationToken.None))!;
            userName = user.Name;
            Assert.True(await users.EnableTotpAsync(user.Id, secret, new Totp(secret).ComputeTotp(), CancellationToken.None));
            // The sign-in page's form token makes the data-protection key ring.
            Assert.Equal(HttpStatusCode.OK, (await first.Http.GetAsync("/login")).StatusCode);
            await using var db = await first.Db.OpenConnectionAsync();
            Assert.True(await db.ExecuteScalarAsync<long>("SELECT count(*) FROM data_protection_keys") >= 1);
        }

        // Steps 1 and 3: a new key pair becomes key 1, the previous pair is AlertNet:OldKeys:0; restart.
        var (newEncryption, newIndex) = (KeyFile.NewKey(), KeyFile.NewKey());
        var rotated = new Dictionary<string, string?>
        {
            ["AlertNet:KeyId"] = "1",
            ["AlertNet:EncryptionKey"] = newEncryption,
            ["AlertNet:BlindIndexKey"] = newIndex,
            ["AlertNet:OldKeys:0:EncryptionKey"] = oldEncryption,
            ["AlertNet:OldKeys:0:BlindIndexKey"] = oldIndex,
        };
        await using (var during = await AlertNetTestApp.StartAsync(overrides: rotated, database: database))
        {
            // Step 4: rotate-keys, and its report: every encrypted column moved, nothing left.
            var (exitCode, output, errors) = await during.RunCommandAsync(KeyRotation.Verb);
            Assert.True(exitCode == 0, output + errors);
            var report = ReportLine().Matches(output).ToDictionary(m => m.Groups[1].Value, m => (Changed: long.Parse(m.Groups[2].Value), Left: long.Parse(m.Groups[3].Value)));
            Assert.Equal((2, 0), report["subscribers.phone_index"]);
            Assert.Equal((2, 0), report["subscribers.phone_cipher"]);
            Assert.Equal((1, 0), report["organizer_phones.phone_index"]);
            Assert.Equal((1, 0), report["organizer_phones.phone_cipher"]);
            Assert.Equal((1, 0), report["hotline_reports.reporter_cipher"]);
            Assert.Equal((1, 0), report["hotline_reports.body_cipher"]);
            Assert.Equal((1, 0), report["pending_sms_alerts.body_cipher"]);
            Assert.Equal((5, 0), report["inbound_messages.body_cipher"]);
            Assert.Equal((1, 0), report["users.totp_secret_cipher"]);
            Assert.True(report[KeyRotation.DataProtectionKeyRing] is { Changed: >= 1, Left: 0 }, output);
            Assert.All(KeyRotation.EncryptedColumns, c => Assert.Equal(0, report[c.Name].Left));
            Assert.Contains("The older EncryptionKeys may be removed", output, StringComparison.Ordinal);
            // What only recognizes a retry of an earlier text may stay under the old blind-index key, and is said so.
            Assert.Equal((0, 5), report["inbound_messages.sid_hash"]);
            Assert.Contains("Keep their BlindIndexKey while inbound_messages.sid_hash", output, StringComparison.Ordinal);
        }

        // Step 5: the old EncryptionKey goes; its BlindIndexKey stays. Restart.
        rotated["AlertNet:OldKeys:0:EncryptionKey"] = null;
        await using var after = await AlertNetTestApp.StartAsync(overrides: rotated, database: database);
        Assert.False(after.Protector.CanDecryptWith(0));

        // Two-step sign-in: the data-protection keys (form token, cookies) and the TOTP secret are readable.
        using var session = WebSession.Anonymous(after, userName);
        var password = await session.PostFormAsync("/login", new() { ["name"] = userName, ["password"] = Password }, "/login");
        Assert.Equal(HttpStatusCode.Redirect, password.StatusCode);
        Assert.StartsWith("/login/code", password.Headers.Location?.OriginalString, StringComparison.Ordinal);
        // The enrolment spent this 30-second step's code; the next step's is accepted (one step of clock drift).
        var code = await session.PostFormAsync("/login/code",
            new() { ["code"] = new Totp(secret).ComputeTotp(DateTime.UtcNow.AddSeconds(30)), ["returnUrl"] = "/" }, "/login/code");
        Assert.Equal(HttpStatusCode.Redirect, code.StatusCode);
        Assert.Equal("/", code.Headers.Location?.OriginalString);
        Assert.Equal(HttpStatusCode.OK, (await session.Client.GetAsync("/")).StatusCode);

        // The rest of what was encrypted: the hotline report reads, the organizer phone is found, the subscriber is known.
        var coordinator = await after.ClientWithRoleAsync(Roles.Coordinator);
        Assert.Contains("agents at the clinic", await coordinator.GetStringAsync("/api/hotline"), StringComparison.Ordinal);
        var preview = await after.TextAsync(Maria, "ALERT DEFAULT Agents at the school");
        Assert.Matches(@"\b\d{8}\b", preview);
        Assert.NotNull(await after.TextAsync(Ana, "STOP"));
    }

    [Fact]
    public async Task Rotation_knows_every_encrypted_column_of_the_schema()
    {
        await using var app = await AlertNetTestApp.StartAsync();
        await using var db = await app.Db.OpenConnectionAsync();

        var columns = (await db.QueryAsync<string>(
            """
            SELECT table_name || '.' || column_name FROM information_schema.columns
            WHERE table_schema = 'public' AND data_type = 'bytea' AND column_name LIKE '%cipher%'
            ORDER BY 1
            """)).ToList();

        Assert.NotEmpty(columns);
        Assert.Equal(columns, KeyRotation.EncryptedColumns.Select(c => c.Name).Order(StringComparer.Ordinal));
    }

    private static async Task RegisterOrganizerPhoneAsync(AlertNetTestApp app, string number)
    {
        using var output = new StringWriter();
        Assert.Equal(0, await CommandLineVerbs.RunAsync(app.Services,
            CommandLineVerb.Parse([RegisterOrganizerPhone.Verb, "--phone", number, "--name", "maria"])!, output, output));
    }

    // "  subscribers.phone_cipher                  2        0"
    [GeneratedRegex(@"^\s+(\S+)\s+(\d+)\s+(\d+)\s*$", RegexOptions.Multiline)]
    private static partial Regex ReportLine();
}
