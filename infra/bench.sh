#!/usr/bin/env bash
# The bench command: AlertNet's broadcast-engine figures on this machine, against the targets of issue 4.
# Usage: bash infra/bench.sh [--quick] [--phases abcdef] [--out FILE]
#   (default) full scale; on 2 cores 30 to 90 minutes (the 1M phase alone sends a million messages);
#             writes docs/benchmarks.md
#   --quick   everything at 1/10 scale, a smoke check of a few minutes; writes .local/bench/benchmarks-quick.md
#   --phases  only these phases (after the common set-up), e.g. --phases d; writes .local/bench/benchmarks-partial.md
# Starts the private PostgreSQL cluster (infra/postgres.sh), builds Release, runs tests/AlertNet.Benchmarks,
# which creates (and drops) its own database, starts the Twilio emulator as a child process, talks only to
# 127.0.0.1, and stops by itself (each phase has a timeout; the whole run is capped below as well).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

cap=120m
for arg in "$@"; do [[ $arg == --quick ]] && cap=25m; done

bash infra/postgres.sh start
export ALERTNET_BENCH_PG="${ALERTNET_BENCH_PG:-$(bash infra/postgres.sh url)}"
ALERTNET_BENCH_COMMIT="$(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
git diff --quiet HEAD 2>/dev/null || ALERTNET_BENCH_COMMIT+="+uncommitted changes"
export ALERTNET_BENCH_COMMIT

# The benchmark project and what it references (AlertNet): a broken test elsewhere must not stop a benchmark.
dotnet build tests/AlertNet.Benchmarks -c Release
# Run the built dll (not `dotnet run`): the benchmark starts itself again as the emulator through the same host.
# `timeout` is the last resort behind the benchmark's own limits; SIGTERM lets it stop its child processes.
exec timeout --kill-after=30s "$cap" dotnet tests/AlertNet.Benchmarks/bin/Release/net10.0/AlertNet.Benchmarks.dll "$@"
