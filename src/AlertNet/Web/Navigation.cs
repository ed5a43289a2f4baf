using AlertNet.Infrastructure.Auth;

namespace AlertNet.Web;

/// <summary>A link in the layout's navigation, shown to those the policy admits.</summary>
/// <param name="TextKey">The link text's key in the Strings files.</param>
/// <param name="DrillOnly">Shown only in a drill started with AlertNet:Mode=drill (the page answers 404 otherwise).</param>
public sealed record NavItem(string Path, string TextKey, string Policy, bool DrillOnly = false);

/// <summary>The layout's navigation, in order. A feature with pages adds its line here.</summary>
public static class Navigation
{
    public static readonly NavItem[] Items =
    [
        new("/", "nav.home", Policies.Watch),
        new("/alerts/new", "nav.compose", Policies.Organize),
        new("/approvals", "nav.approvals", Policies.Watch),
        new("/hotline", "nav.hotline", Policies.Watch),
        new("/rights", "nav.rights", Policies.Watch),
        new("/phone-simulator", "nav.simulator", Policies.Watch, DrillOnly: true),
        new("/admin/users", "nav.users", Policies.Administer),
        new("/admin/tokens", "nav.tokens", Policies.Administer),
        new("/admin/audit", "nav.audit", Policies.Administer),
        new("/jobs", "nav.jobs", Policies.JobsDashboard),
        new("/account", "nav.account", Policies.Watch),
    ];
}
