using AlertNet.Infrastructure.Auth;
using AlertNet.Privacy;
using AlertNet.Web;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace AlertNet.Accounts.Admin;

/// <summary>API tokens: create (shown once; only the hash is kept), list by name and role, revoke. Audited.</summary>
[Authorize(Policy = Policies.Administer)]
public sealed class TokensModel(ApiTokens tokens, AuditLog audit, WebText text) : PageModel
{
    public IReadOnlyList<ApiTokenInfo> Tokens { get; private set; } = [];

    public string? Message { get; private set; }

    public string? Error { get; private set; }

    public string? ShownOnceToken { get; private set; }

    public string? ShownOnceFor { get; private set; }

    public async Task OnGetAsync(CancellationToken cancellationToken) => Tokens = await tokens.ListAsync(cancellationToken);

    public async Task<IActionResult> OnPostCreateAsync(string? name, string? role, CancellationToken cancellationToken)
    {
        name = name?.Trim();
        if (string.IsNullOrEmpty(name) || name.Length > 60 || role is null || !Roles.All.Contains(role))
        {
            Error = text["tokens.invalid"];
        }
        else
        {
            ShownOnceToken = await tokens.CreateAsync(name, role, cancellationToken);
            ShownOnceFor = name;
            await audit.RecordAsync(User.Identity!.Name!, "token.create", $"token:{name}", new { role }, cancellationToken);
        }

        Tokens = await tokens.ListAsync(cancellationToken);
        return Page();
    }

    public async Task<IActionResult> OnPostRevokeAsync(long id, CancellationToken cancellationToken)
    {
        if (await tokens.RevokeAsync(id, cancellationToken) is not { } revoked)
        {
            return NotFound();
        }

        await audit.RecordAsync(User.Identity!.Name!, "token.revoke", $"token:{revoked.Name}", new { revoked.Role }, cancellationToken);
        Message = text["tokens.revoked.message", revoked.Name];
        Tokens = await tokens.ListAsync(cancellationToken);
        return Page();
    }
}
