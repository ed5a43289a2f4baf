using System.Security.Cryptography;
using Microsoft.AspNetCore.DataProtection;
using OtpNet;
using QRCoder;

namespace AlertNet.Accounts;

/// <summary>An offered authenticator secret, shown as text and QR code. The secret travels in the form, encrypted and
/// valid for 10 minutes: nothing is stored until a code proves the app has it. Used by the account page and by the
/// set-up step of sign-in.</summary>
public sealed record TotpEnrollment(string SecretText, string ProtectedSecret, string QrCodeDataUri)
{
    private static ITimeLimitedDataProtector Protector(IDataProtectionProvider dataProtection) =>
        dataProtection.CreateProtector("AlertNet.Accounts.TwoFactor").ToTimeLimitedDataProtector();

    public static TotpEnrollment Offer(IDataProtectionProvider dataProtection, string userName, byte[] secret)
    {
        var text = Base32Encoding.ToString(secret);
        var uri = $"otpauth://totp/{Uri.EscapeDataString("AlertNet:" + userName)}?secret={text}&issuer=AlertNet&digits=6&period=30";
        return new TotpEnrollment(
            text,
            Convert.ToBase64String(Protector(dataProtection).Protect(secret, TimeSpan.FromMinutes(10))),
            "data:image/png;base64," + Convert.ToBase64String(PngByteQRCodeHelper.GetQRCode(uri, QRCodeGenerator.ECCLevel.M, 5)));
    }

    /// <summary>The offered secret back from the form, or null when it expired or was tampered with.</summary>
    public static byte[]? Read(IDataProtectionProvider dataProtection, string? protectedSecret)
    {
        try
        {
            return Protector(dataProtection).Unprotect(Convert.FromBase64String(protectedSecret ?? ""));
        }
        catch (Exception e) when (e is CryptographicException or FormatException)
        {
            return null;
        }
    }
}
