using AlertNet.Infrastructure.Auth;
using AlertNet.Privacy;
using AlertNet.Web;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace AlertNet.Accounts;

/// <summary>One's own account: password and second factor.</summary>
[Authorize(Policy = Policies.Watch)]
public sealed class AccountModel(UserAccounts users, AuditLog audit, WebText text) : PageModel
{
    public UserAccount Me { get; private set; } = null!;

    public string? Message { get; private set; }

    public string? Error { get; private set; }

    public async Task<IActionResult> OnGetAsync(CancellationToken cancellationToken) =>
        await LoadAsync(cancellationToken) ? Page() : Forbid();

    public async Task<IActionResult> OnPostPasswordAsync(string? current, string? replacement, string? confirm, CancellationToken cancellationToken)
    {
        if (!await LoadAsync(cancellationToken))
        {
            return Forbid();
        }

        if (replacement is null || replacement.Length < UserAccounts.MinPasswordLength)
        {
            Error = text["password.rule", UserAccounts.MinPasswordLength];
        }
        else if (replacement != confirm)
        {
            Error = text["password.mismatch"];
        }
        else if (!await users.ChangePasswordAsync(Me.Id, current ?? "", replacement, cancellationToken))
        {
            Error = text["password.wrongcurrent"];
        }
        else
        {
            await audit.RecordAsync(Me.Name, "user.password", $"user:{Me.Name}", null, cancellationToken);
            // The change ended every session of this account, this one included: start a new one.
            await LoadAsync(cancellationToken);
            await CookieSessions.SignInAsync(HttpContext, Me, CookieSessions.SignedInAt(User));
            Message = text["password.changed"];
        }

        return Page();
    }

    private async Task<bool> LoadAsync(CancellationToken cancellationToken)
    {
        Me = (CookieSessions.UserId(User) is { } id ? await users.FindAsync(id, cancellationToken) : null)!;
        return Me is not null;
    }
}
