using AlertNet.Infrastructure.Auth;
using AlertNet.Privacy;
using AlertNet.Web;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace AlertNet.Accounts;

/// <summary>Turns the authenticator-app second factor on (scan, then prove it with a code) or off (with a code).</summary>
[Authorize(Policy = Policies.Watch)]
public sealed class TwoFactorModel(UserAccounts users, AuditLog audit, WebText text, IDataProtectionProvider dataProtection,
    Microsoft.Extensions.Options.IOptions<WebOptions> web) : PageModel
{
    public bool Enabled { get; private set; }

    public string? SecretText { get; private set; }

    /// <summary>The new secret travels in the form, encrypted and valid for 10 minutes: nothing is stored until the
    /// code proves the app has it.</summary>
    public string? ProtectedSecret { get; private set; }

    public string? QrCodeDataUri { get; private set; }

    public string? Error { get; private set; }

    public string? Message { get; private set; }

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

        if (TotpEnrollment.Read(dataProtection, protectedSecret) is not { } secret)
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
        await CookieSessions.SignInAsync(HttpContext, (await users.FindAsync(me.Id, cancellationToken))!, CookieSessions.SignedInAt(User));
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
        if (web.Value.RequiresTwoFactor(me.Role))
        {
            // Turning it off would end this session at once (CookieSessions): say why instead.
            Error = text["twofactor.required"];
            return Page();
        }

        if (!await users.DisableTotpAsync(me.Id, code ?? "", cancellationToken))
        {
            Error = text["code.wrong"];
            return Page();
        }

        await audit.RecordAsync(me.Name, "user.two-factor.disable", $"user:{me.Name}", null, cancellationToken);
        await CookieSessions.SignInAsync(HttpContext, (await users.FindAsync(me.Id, cancellationToken))!, CookieSessions.SignedInAt(User));
        Message = text["twofactor.disabled"];
        return Page();
    }

    private void Offer(UserAccount me, byte[] secret)
    {
        var offer = TotpEnrollment.Offer(dataProtection, me.Name, secret);
        (SecretText, ProtectedSecret, QrCodeDataUri) = (offer.SecretText, offer.ProtectedSecret, offer.QrCodeDataUri);
    }

    private async Task<UserAccount?> MeAsync(CancellationToken cancellationToken) =>
        CookieSessions.UserId(User) is { } id ? await users.FindAsync(id, cancellationToken) : null;
}
