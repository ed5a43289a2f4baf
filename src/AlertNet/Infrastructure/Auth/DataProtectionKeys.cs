using System.Xml.Linq;
using AlertNet.Privacy;
using Dapper;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.AspNetCore.DataProtection.Repositories;
using Microsoft.AspNetCore.DataProtection.XmlEncryption;
using Npgsql;

namespace AlertNet.Infrastructure.Auth;

/// <summary>The keys that sign session cookies and form tokens live in PostgreSQL, so every web process accepts
/// the others' cookies, and are encrypted with the configured key first, so a copy of the database alone
/// cannot forge a session.</summary>
public static class DataProtectionKeys
{
    public static IServiceCollection AddAlertNetDataProtection(this IServiceCollection services)
    {
        services.AddDataProtection().SetApplicationName("AlertNet");
        services.AddOptions<KeyManagementOptions>().Configure<IServiceProvider>((options, provider) =>
        {
            options.XmlRepository = new PostgresXmlRepository(provider.GetRequiredService<NpgsqlDataSource>());
            options.XmlEncryptor = new KeyXmlEncryptor(provider.GetRequiredService<PersonalDataProtector>());
        });
        return services;
    }

    /// <summary>Key rotation (Privacy/KeyRotation.cs): the key XML with each secret AlertNet's encryptor wrote moved to the
    /// current key and ciphertext format, or null when every one already is.</summary>
    public static string? Reencrypt(string xml, PersonalDataProtector protector)
    {
        var root = XElement.Parse(xml);
        var changed = false;
        foreach (var secret in EncryptedSecrets(root).Where(e => !protector.IsCurrent(Convert.FromBase64String(e.Value))))
        {
            var plain = protector.Decrypt(Convert.FromBase64String(secret.Value), CipherPlaces.DataProtectionKey);
            secret.Value = Convert.ToBase64String(protector.Encrypt(plain, CipherPlaces.DataProtectionKey));
            changed = true;
        }

        return changed ? root.ToString(SaveOptions.DisableFormatting) : null;
    }

    /// <summary>True when the key XML holds a secret that is not under the current key and format.</summary>
    public static bool NeedsRotation(string xml, PersonalDataProtector protector) =>
        EncryptedSecrets(XElement.Parse(xml)).Any(e => !protector.IsCurrent(Convert.FromBase64String(e.Value)));

    /// <summary>The encryptedKey elements of every encryptedSecret that <see cref="KeyXmlDecryptor"/> reads.</summary>
    private static List<XElement> EncryptedSecrets(XElement root) =>
        root.DescendantsAndSelf()
            .Where(e => e.Name.LocalName == "encryptedSecret"
                        && ((string?)e.Attribute("decryptorType"))?.StartsWith(typeof(KeyXmlDecryptor).FullName!, StringComparison.Ordinal) == true)
            .SelectMany(e => e.Elements().Where(child => child.Name.LocalName == "encryptedKey"))
            .ToList();

    private sealed class PostgresXmlRepository(NpgsqlDataSource db) : IXmlRepository
    {
        // The data-protection API is synchronous; it reads keys once and caches them.
        public IReadOnlyCollection<XElement> GetAllElements()
        {
            using var connection = db.OpenConnection();
            return connection.Query<string>("SELECT xml FROM data_protection_keys ORDER BY id").Select(XElement.Parse).ToList();
        }

        public void StoreElement(XElement element, string friendlyName)
        {
            using var connection = db.OpenConnection();
            connection.Execute("INSERT INTO data_protection_keys (friendly_name, xml) VALUES (@friendlyName, @xml)",
                new { friendlyName, xml = element.ToString(SaveOptions.DisableFormatting) });
        }
    }

    private sealed class KeyXmlEncryptor(PersonalDataProtector protector) : IXmlEncryptor
    {
        public EncryptedXmlInfo Encrypt(XElement plaintextElement) =>
            new(new XElement("encryptedKey", Convert.ToBase64String(protector.Encrypt(plaintextElement.ToString(SaveOptions.DisableFormatting), CipherPlaces.DataProtectionKey))),
                typeof(KeyXmlDecryptor));
    }
}

/// <summary>Created by the data-protection system by name when it reads a key back.</summary>
public sealed class KeyXmlDecryptor(IServiceProvider services) : IXmlDecryptor
{
    public XElement Decrypt(XElement encryptedElement) =>
        XElement.Parse(services.GetRequiredService<PersonalDataProtector>().Decrypt(Convert.FromBase64String(encryptedElement.Value), CipherPlaces.DataProtectionKey));
}
