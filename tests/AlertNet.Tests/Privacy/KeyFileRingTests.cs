using System.Text.Json;
using AlertNet.Privacy;
using AlertNet.Tests.Support;

namespace AlertNet.Tests.Privacy;

/// <summary>The key file holds a ring too: the current key's id and the earlier keys, as configuration does.</summary>
public sealed class KeyFileRingTests
{
    [Fact]
    public async Task A_key_file_with_a_key_id_and_old_keys_reads_data_of_every_key_and_writes_with_the_current_one()
    {
        var path = Path.Combine(Path.GetTempPath(), "alertnet-keys-" + Guid.NewGuid().ToString("N") + ".json");
        var (oldEncryption, oldIndex) = (KeyFile.NewKey(), KeyFile.NewKey());
        await File.WriteAllTextAsync(path, JsonSerializer.Serialize(new
        {
            encryptionKey = KeyFile.NewKey(),
            blindIndexKey = KeyFile.NewKey(),
            keyId = 3,
            oldKeys = new Dictionary<string, object> { ["0"] = new { encryptionKey = oldEncryption, blindIndexKey = oldIndex } },
        }));
        try
        {
            await using var app = await AlertNetTestApp.StartAsync(overrides: new Dictionary<string, string?>
            {
                ["AlertNet:EncryptionKey"] = null,
                ["AlertNet:BlindIndexKey"] = null,
                ["AlertNet:KeyFile"] = path,
            });
            var place = CipherPlaces.SubscriberPhone(1);

            Assert.Equal(3, app.Protector.CurrentKeyId);
            Assert.Equal("+12025550101", app.Protector.Decrypt(LegacyCiphertext.Encrypt(Convert.FromBase64String(oldEncryption), "+12025550101"), place));
            Assert.Equal(3, PersonalDataProtector.KeyIdOfCipher(app.Protector.Encrypt("+12025550101", place)));
            Assert.Equal(LegacyCiphertext.BlindIndex(Convert.FromBase64String(oldIndex), "+12025550101"),
                Assert.Single(app.Protector.OlderBlindIndexes("+12025550101")));
        }
        finally
        {
            File.Delete(path);
        }
    }
}
