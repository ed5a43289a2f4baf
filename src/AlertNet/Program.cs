using AlertNet.Hosting;

var builder = WebApplication.CreateBuilder(CommandLineVerb.HostArguments(args));
builder.AddAlertNet();

await using var app = builder.Build();
app.MapAlertNet();

// Either runs a command-line verb (create-token, ...) and exits, or serves until stopped.
return await app.RunAlertNetAsync(CommandLineVerb.Parse(args));
