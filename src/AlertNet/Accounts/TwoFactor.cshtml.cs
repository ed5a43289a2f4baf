using System.Security.Cryptography;
using AlertNet.Infrastructure.Auth;
using AlertNet.Privacy;
using AlertNet.Web;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using OtpNet;
using QRCoder;

namespace AlertNet.Accounts;

/// <summary>Turns the authenticator-app second factor on (scan, then prove it with a code) or off (with a code).</summary>
[Authorize(Policy = Policies.Watch)]
public sealed class TwoFactorModel(UserAccounts users, AuditLog audit, WebText text, IDataProtectionProvider dataProtection) : PageModel
{
    public bool Enabled { get; private set; }

    public string? SecretText { get; private set; }

    /// <summary>The new secret travels in the form, encrypted and valid for 10 minutes: nothing is stored until the
    /// code proves the app has it.</summary>
    public string? ProtectedSecret { get; private set; }

    public string? QrCodeDataUri { get; private set; }

    public string? Error { get; private set; }

    public string? Message { get; private set; }

    private ITimeLimitedDataProtector Protector =>
        dataProtection.CreateProtector("AlertNet.Accounts.TwoFactor").ToTimeLimitedDataProtector();

    public async Task<IActionResult> OnGetAsync(CancellationToken cancellationToken)
    {
        if (await MeAsync(cancellationToken) is not { } me)
        {
            return Forbid();
        }

        Enabled = me.HasTotp;
        if (!Enabled)
        {
            Offer(me, UserAccounts.NewTotpSecret());
        }

        return Page();
    }

    public async Task<IActionResult> OnPostEnableAsync(string? protectedSecret, string? code, CancellationToken cancellationToken)
    {
        if (await MeAsync(cancellationToken) is not { } me)
        {
            return Forbid();
        }

        byte[] secret;
        try
        {
            secret = Protector.Unprotect(Convert.FromBase64String(protectedSecret ?? ""));
        }
        catch (Exception e) when (e is CryptographicException or FormatException)
        {
            // Expired or tampered with: start again with a new secret.
            Error = text["twofactor.expired"];
            Offer(me, UserAccounts.NewTotpSecret());
            return Page();
        }

        if (!await users.EnableTotpAsync(me.Id, secret, code ?? "", cancellationToken))
        {
            Error = text["code.wrong"];
            Offer(me, secret);
            return Page();
        }

        await audit.RecordAsync(me.Name, "user.two-factor.enable", $"user:{me.Name}", null, cancellationToken);
        await CookieSessions.SignInAsync(HttpContext, (await users.FindAsync(me.Id, cancellationToken))!);
        Message = text["twofactor.enabled"];
        return Page();
    }

    public async Task<IActionResult> OnPostDisableAsync(string? code, CancellationToken cancellationToken)
    {
        if (await MeAsync(cancellationToken) is not { } me)
        {
            return Forbid();
        }

        Enabled = me.HasTotp;
        if (!await users.DisableTotpAsync(me.Id, code ?? "", cancellationToken))
        {
            Error = text["code.wrong"];
            return Page();
        }

        await audit.RecordAsync(me.Name, "user.two-factor.disable", $"user:{me.Name}", null, cancellationToken);
        await CookieSessions.SignInAsync(HttpContext, (await users.FindAsync(me.Id, cancellationToken))!);
        Message = text["twofactor.disabled"];
        return Page();
    }

    private void Offer(UserAccount me, byte[] secret)
    {
        SecretText = Base32Encoding.ToString(secret);
        ProtectedSecret = Convert.ToBase64String(Protector.Protect(secret, TimeSpan.FromMinutes(10)));
        var uri = $"otpauth://totp/{Uri.EscapeDataString("AlertNet:" + me.Name)}?secret={SecretText}&issuer=AlertNet&digits=6&period=30";
        QrCodeDataUri = "data:image/png;base64," + Convert.ToBase64String(PngByteQRCodeHelper.GetQRCode(uri, QRCodeGenerator.ECCLevel.M, 5));
    }

    private async Task<UserAccount?> MeAsync(CancellationToken cancellationToken) =>
        CookieSessions.UserId(User) is { } id ? await users.FindAsync(id, cancellationToken) : null;
}
