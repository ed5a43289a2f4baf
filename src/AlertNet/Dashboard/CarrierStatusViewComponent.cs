using AlertNet.Carrier;
using Microsoft.AspNetCore.Mvc;

namespace AlertNet.Dashboard;

/// <summary>"Twilio unreachable since 14:03" on the alert page and the overview, while any worker finds the provider down.</summary>
public sealed class CarrierStatusViewComponent(CarrierHealth health) : ViewComponent
{
    public async Task<IViewComponentResult> InvokeAsync() =>
        View("/Dashboard/_CarrierStatus.cshtml", await health.OutagesAsync(HttpContext.RequestAborted));
}
