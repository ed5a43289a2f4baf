using AlertNet.Benchmarks;

// `emulator --port N` is this same executable started again by the benchmark as the Twilio stand-in,
// so that the carrier's CPU and sockets are another process's, as Twilio's are.
return args is ["emulator", ..]
    ? await Emulator.RunAsync(args[1..])
    : await Bench.RunAsync(args);
