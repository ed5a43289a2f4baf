using AlertNet.Infrastructure.Auth;
using AlertNet.Privacy;
using AlertNet.Web;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace AlertNet.Accounts.Admin;

/// <summary>Accounts: create (with a password shown once), change role, disable, enable, unlock, reset password or second factor.
/// Admins cannot change or disable their own account here, so the last admin cannot lock everyone out.
/// Every action goes to the audit log.</summary>
[Authorize(Policy = Policies.Administer)]
public sealed class UsersModel(UserAccounts users, SignInThrottle throttle, AuditLog audit, WebText text) : PageModel
{
    public IReadOnlyList<UserAccount> Users { get; private set; } = [];

    public long? MyId => CookieSessions.UserId(User);

    public string? Message { get; private set; }

    public string? Error { get; private set; }

    public string? ShownOncePassword { get; private set; }

    public string? ShownOnceFor { get; private set; }

    private string Actor => User.Identity!.Name!;

    public async Task OnGetAsync(CancellationToken cancellationToken) => Users = await users.ListAsync(cancellationToken);

    public async Task<IActionResult> OnPostCreateAsync(string? name, string? role, CancellationToken cancellationToken)
    {
        name = name?.Trim();
        if (!UserAccounts.IsValidName(name) || role is null || !Roles.All.Contains(role))
        {
            Error = text["users.name.rule"];
        }
        else
        {
            var password = UserAccounts.GeneratePassword();
            if (await users.CreateAsync(name!, role, password, cancellationToken) is null)
            {
                Error = text["users.name.taken", name!];
            }
            else
            {
                await audit.RecordAsync(Actor, "user.create", $"user:{name}", new { role }, cancellationToken);
                (ShownOnceFor, ShownOncePassword) = (name, password);
            }
        }

        return await ShowAsync(cancellationToken);
    }

    public Task<IActionResult> OnPostRoleAsync(long id, string? role, CancellationToken cancellationToken) =>
        role is null || !Roles.All.Contains(role)
            ? Task.FromResult<IActionResult>(BadRequest())
            : ChangeAsync(id, "user.role", new { role }, "users.role.changed", (user, ct) => users.SetRoleAsync(user.Id, role, ct), cancellationToken);

    public Task<IActionResult> OnPostDisableAsync(long id, CancellationToken cancellationToken) =>
        ChangeAsync(id, "user.disable", null, "users.disabled", (user, ct) => users.DisableAsync(user.Id, ct), cancellationToken);

    public Task<IActionResult> OnPostEnableAsync(long id, CancellationToken cancellationToken) =>
        ChangeAsync(id, "user.enable", null, "users.enabled", (user, ct) => users.EnableAsync(user.Id, ct), cancellationToken);

    /// <summary>Unlocks the account and forgets its name's failed sign-ins, so its owner may try again at once.</summary>
    public Task<IActionResult> OnPostUnlockAsync(long id, CancellationToken cancellationToken) =>
        ChangeAsync(id, "user.unlock", null, "users.unlocked", async (user, ct) =>
        {
            await throttle.ForgetNameAsync(user.Name, ct);
            return await users.UnlockAsync(user.Id, ct);
        }, cancellationToken);

    /// <summary>A lost phone: the second factor is removed and the sessions end; the owner sets it up again at the next sign-in.</summary>
    public Task<IActionResult> OnPostTwoFactorResetAsync(long id, CancellationToken cancellationToken) =>
        ChangeAsync(id, "user.two-factor.reset", null, "users.twofactor.wasreset", (user, ct) => users.ResetTotpAsync(user.Id, ct), cancellationToken);

    public async Task<IActionResult> OnPostPasswordAsync(long id, CancellationToken cancellationToken)
    {
        var password = UserAccounts.GeneratePassword();
        var result = await ChangeAsync(id, "user.password-reset", null, null, (user, ct) => users.SetPasswordAsync(user.Id, password, ct), cancellationToken);
        if (Error is null && result is PageResult)
        {
            (ShownOnceFor, ShownOncePassword) = (Users.First(u => u.Id == id).Name, password);
        }

        return result;
    }

    private async Task<IActionResult> ChangeAsync(long id, string action, object? details, string? messageKey,
        Func<UserAccount, CancellationToken, Task<bool>> change, CancellationToken cancellationToken)
    {
        if (await users.FindAsync(id, cancellationToken) is not { } user)
        {
            return NotFound();
        }

        if (user.Id == MyId)
        {
            Error = text["users.self"];
        }
        else if (await change(user, cancellationToken))
        {
            await audit.RecordAsync(Actor, action, $"user:{user.Name}", details, cancellationToken);
            Message = messageKey is null ? null : text[messageKey, user.Name];
        }

        return await ShowAsync(cancellationToken);
    }

    private async Task<IActionResult> ShowAsync(CancellationToken cancellationToken)
    {
        Users = await users.ListAsync(cancellationToken);
        return Page();
    }
}
