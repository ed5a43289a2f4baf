using System.Diagnostics;
using System.Text.Json;
using AlertNet.Hosting;
using AlertNet.Privacy;
using AlertNet.Tests.Support;

namespace AlertNet.Tests.Privacy;

/// <summary>Where keys come from: configuration or files (mounted secrets), the encryption and blind-index keys each
/// from its own place; drill key files never in live mode; every mistake named, no key in any message.</summary>
public sealed class KeyCustodyTests : IDisposable
{
    private static readonly CipherPlace Place = CipherPlaces.SubscriberPhone(5);
    private readonly string _folder = Directory.CreateTempSubdirectory("alertnet-keys-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public void The_encryption_and_blind_index_keys_can_come_from_two_mounted_secret_files()
    {
        var (encryption, blindIndex) = (KeyFile.NewKey(), KeyFile.NewKey());
        var options = new AlertNetOptions
        {
            EncryptionKeyFile = Secret("encryption-key", encryption + "\n"),
            BlindIndexKeyFile = Secret("blind-index-key", blindIndex),
        };

        var protector = KeyCustody.Load(options, isDrill: false);

        var same = KeyCustody.Load(new AlertNetOptions { EncryptionKey = encryption, BlindIndexKey = blindIndex }, isDrill: false);
        Assert.Equal("+12025550101", same.Decrypt(protector.Encrypt("+12025550101", Place), Place));
        Assert.Equal(same.BlindIndex("+12025550101"), protector.BlindIndex("+12025550101"));
    }

    [Fact]
    public void One_key_from_a_mounted_file_and_the_other_from_the_key_file_with_its_key_id_and_old_keys()
    {
        var (encryption, blindIndex, oldIndex) = (KeyFile.NewKey(), KeyFile.NewKey(), KeyFile.NewKey());
        var keyFile = Secret("keys.json", JsonSerializer.Serialize(new
        {
            encryptionKey = encryption,
            keyId = 2,
            oldKeys = new Dictionary<string, object> { ["1"] = new { blindIndexKey = oldIndex } },
        }));

        var protector = KeyCustody.Load(new AlertNetOptions { KeyFile = keyFile, BlindIndexKeyFile = Secret("blind", blindIndex) }, isDrill: false);

        Assert.Equal(2, protector.CurrentKeyId);
        Assert.Equal([1], protector.OlderKeyIds);
        var expected = KeyCustody.Load(new AlertNetOptions { EncryptionKey = encryption, BlindIndexKey = blindIndex, KeyId = 2 }, isDrill: false);
        Assert.Equal(expected.BlindIndex("+12025550101"), protector.BlindIndex("+12025550101"));
        Assert.Equal("+12025550101", expected.Decrypt(protector.Encrypt("+12025550101", Place), Place));
    }

    [Fact]
    public void Live_mode_refuses_a_drill_key_file_and_drill_mode_uses_it()
    {
        var path = Path.Combine(_folder, "drill-keys.json");
        KeyFile.ReadOrCreateForDrill(path);

        var error = Assert.Throws<InvalidOperationException>(() => KeyCustody.Load(new AlertNetOptions { KeyFile = path }, isDrill: false));

        Assert.Contains($"AlertNet:KeyFile {path} is a drill key file", error.Message, StringComparison.Ordinal);
        Assert.Contains("live mode refuses it", error.Message, StringComparison.Ordinal);
        Assert.Equal(0, KeyCustody.Load(new AlertNetOptions { KeyFile = path }, isDrill: true).CurrentKeyId);
    }

    [Fact]
    public void A_drill_key_file_from_before_the_mark_is_known_by_its_drill_auth_token()
    {
        var path = Secret("old-drill.json", JsonSerializer.Serialize(new
        {
            encryptionKey = KeyFile.NewKey(), blindIndexKey = KeyFile.NewKey(), drillAuthToken = "0123456789abcdef",
        }));

        var error = Assert.Throws<InvalidOperationException>(() => KeyCustody.Load(new AlertNetOptions { KeyFile = path }, isDrill: false));

        Assert.Contains("is a drill key file", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Mistakes_are_named_with_the_setting_and_never_show_a_key()
    {
        var key = KeyFile.NewKey();
        var shortKey = Convert.ToBase64String(new byte[16]);
        var cases = new (AlertNetOptions Options, string Expected)[]
        {
            (new AlertNetOptions(), "No encryption keys configured for live mode"),
            (new AlertNetOptions { EncryptionKey = key, EncryptionKeyFile = Secret("e", key), BlindIndexKey = KeyFile.NewKey() },
                "Set AlertNet:EncryptionKey or AlertNet:EncryptionKeyFile, not both."),
            (new AlertNetOptions { EncryptionKey = key, BlindIndexKeyFile = Path.Combine(_folder, "missing") },
                $"AlertNet:BlindIndexKeyFile: there is no file {Path.Combine(_folder, "missing")}."),
            (new AlertNetOptions { KeyFile = Path.Combine(_folder, "absent.json") }, "does not exist (live mode never generates keys)"),
            (new AlertNetOptions { EncryptionKey = shortKey, BlindIndexKey = key }, "The AlertNet:EncryptionKey is 16 bytes; keys are 32 bytes."),
            (new AlertNetOptions { EncryptionKey = key, BlindIndexKeyFile = Secret("not-base64", "secret!" + key) }, "is not base64"),
            (new AlertNetOptions { EncryptionKey = key, BlindIndexKey = key }, "must differ"),
            (new AlertNetOptions { KeyFile = Secret("k.json", JsonSerializer.Serialize(new { encryptionKey = key, blindIndexKey = KeyFile.NewKey() })), KeyId = 1 },
                "set the key id and the old keys in one place"),
            (new AlertNetOptions { EncryptionKey = key, BlindIndexKey = KeyFile.NewKey(), OldKeys = { ["0"] = new OldKeyOptions { EncryptionKey = KeyFile.NewKey() } } },
                "AlertNet:OldKeys:0 needs a numeric id other than the current key id (0) and a BlindIndexKey"),
        };

        foreach (var (options, expected) in cases)
        {
            var error = Assert.Throws<InvalidOperationException>(() => KeyCustody.Load(options, isDrill: false));
            Assert.Contains(expected, error.Message, StringComparison.Ordinal);
            Assert.DoesNotContain(key, error.Message, StringComparison.Ordinal);
        }
    }

    /// <summary>The real executable, started in live mode with a drill key file, exits at start with the reason.</summary>
    [Fact]
    public async Task A_live_process_with_a_drill_key_file_refuses_to_start()
    {
        var path = Path.Combine(_folder, "drill-keys.json");
        KeyFile.ReadOrCreateForDrill(path);
        var database = await TestCluster.CreateDatabaseAsync();
        try
        {
            var start = new ProcessStartInfo("dotnet", [AlertNetTestApp.AlertNetDll()])
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                WorkingDirectory = Path.GetDirectoryName(AlertNetTestApp.AlertNetDll())!,
            };
            start.Environment["ConnectionStrings__AlertNet"] = database;
            start.Environment["urls"] = $"http://127.0.0.1:{AlertNetTestApp.FreePort()}";
            start.Environment["AlertNet__KeyFile"] = path;
            start.Environment["AlertNet__ContactInfo"] = "help@example.org";
            start.Environment["Twilio__AccountSid"] = "AC" + new string('1', 32);
            start.Environment["Twilio__AuthToken"] = "live-token";
            start.Environment["Twilio__From"] = "+12025550100";
            using var process = Process.Start(start)!;
            var output = process.StandardOutput.ReadToEndAsync();
            var errors = process.StandardError.ReadToEndAsync();
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            try
            {
                await process.WaitForExitAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                Assert.Fail("The live process started with a drill key file.");
            }

            Assert.NotEqual(0, process.ExitCode);
            Assert.Contains("is a drill key file", await output + await errors, StringComparison.Ordinal);
        }
        finally
        {
            await TestCluster.DropDatabaseAsync(database);
        }
    }

    private string Secret(string name, string content)
    {
        var path = Path.Combine(_folder, name);
        File.WriteAllText(path, content);
        return path;
    }

}
