using AlertNet.Infrastructure.Auth;
using AlertNet.Infrastructure.Twilio;
using AlertNet.Infrastructure.Twilio.Drill;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace AlertNet.Simulator;

/// <summary>Drill mode only: staff act as a subscriber. Web/static/phone.js posts typed texts through
/// PhoneSimulatorApi (the signed inbound webhook) and polls what the drill carrier received for the number.</summary>
[Authorize(Policy = Policies.Watch)]
public sealed class PhoneSimulatorModel(TwilioSettings twilio) : PageModel
{
    /// <summary>Suggested numbers: fictional 555 numbers, then drill magic numbers whose alerts fail in telling ways.</summary>
    public static readonly (string Number, string TextKey)[] Suggestions =
    [
        ("+12025550100", "simulator.number.plain"),
        ("+12025550101", "simulator.number.plain"),
        ("+12025550102", "simulator.number.plain"),
        (DrillMagicNumbers.Unreachable, "simulator.number.unreachable"),
        (DrillMagicNumbers.LandlineOrUnreachableCarrier, "simulator.number.landline"),
    ];

    public IActionResult OnGet() => twilio.HasPhoneSimulator ? Page() : NotFound();
}
