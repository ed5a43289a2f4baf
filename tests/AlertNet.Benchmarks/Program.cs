using AlertNet.Benchmarks;
using AlertNet.Benchmarks.Chaos;
using AlertNet.Benchmarks.Residue;

// `emulator --port N` is this same executable started again by the benchmark as the Twilio stand-in,
// so that the carrier's CPU and sockets are another process's, as Twilio's are. `chaos` is the chaos command
// (infra/chaos.sh), which shares the emulator and the process plumbing with the bench; `residue` is the provider-residue
// check that infra/security.sh runs.
return args switch
{
    ["emulator", ..] => await Emulator.RunAsync(args[1..]),
    ["chaos", ..] => await ChaosRun.RunAsync(args[1..]),
    ["residue", ..] => await ProviderResidueRun.RunAsync(args[1..]),
    _ => await Bench.RunAsync(args),
};
