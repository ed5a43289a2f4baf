#!/usr/bin/env bash
# The chaos command: AlertNet as a multi-process deployment on this machine (one web process, three worker
# processes, one PostgreSQL) sends an urgent alert while workers are SIGKILLed at random instants (start-up included),
# PostgreSQL restarts, the Twilio emulator misbehaves, or the carrier is unreachable for a while; the emulator (its own
# process) counts messages per recipient: lost, duplicated, time (and, for the outage, time to recover).
# Usage: bash infra/chaos.sh [--quick] [--scenarios kpfo] [--out FILE]
#   (default) 20,000 recipients per scenario, several minutes on 2 cores; writes docs/reliability.md
#   --quick   500 recipients per scenario (throttled so the trouble lands mid-alert), a 20 s outage instead of 2 min;
#             writes .local/chaos/reliability-quick.md
#   --scenarios  k (worker kills at random instants, two alerts), p (PostgreSQL restart), f (emulator faults),
#                o (carrier unreachable mid-broadcast, every process alive throughout); e.g. --scenarios ko
# The run gets a PostgreSQL cluster of its own (it restarts it): ALERTNET_CHAOS_PG_PORT (default 5435) and
# ALERTNET_CHAOS_PG_DATA (default .local/chaos-postgres), stopped again at the end. Exit status 0 when every
# scenario met the target (0 lost, 0 duplicated).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

cap=45m
for arg in "$@"; do [[ $arg == --quick ]] && cap=17m; done

export ALERTNET_PG_PORT="${ALERTNET_CHAOS_PG_PORT:-5435}"
export ALERTNET_PG_DATA="${ALERTNET_CHAOS_PG_DATA:-$PWD/.local/chaos-postgres}"
bash infra/postgres.sh start
trap 'bash infra/postgres.sh stop >/dev/null 2>&1 || true' EXIT
export ALERTNET_CHAOS_PG="$(bash infra/postgres.sh url)"
ALERTNET_BENCH_COMMIT="$(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
git diff --quiet HEAD 2>/dev/null || ALERTNET_BENCH_COMMIT+="+uncommitted changes"
export ALERTNET_BENCH_COMMIT

# The chaos command lives in the bench project, beside the emulator and process plumbing it shares.
dotnet build tests/AlertNet.Benchmarks -c Release
# Not exec: the trap must stop the cluster afterwards. `timeout` is the last resort behind the run's own limits.
timeout --kill-after=30s "$cap" dotnet tests/AlertNet.Benchmarks/bin/Release/net10.0/AlertNet.Benchmarks.dll chaos "$@"
