using Microsoft.AspNetCore.Mvc;

namespace AlertNet.Dashboard;

/// <summary>The overview on the home page (Web/Index.cshtml): recent alerts and subscriber counts.</summary>
public sealed class OverviewViewComponent(Mediator.IMediator mediator) : ViewComponent
{
    public async Task<IViewComponentResult> InvokeAsync() =>
        View("/Dashboard/_Overview.cshtml", await mediator.Send(new GetOverview(GetOverviewEndpoint.RecentAlerts), HttpContext.RequestAborted));
}
