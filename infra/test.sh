#!/usr/bin/env bash
# Quick start 2: build and run the whole test suite against the private PostgreSQL cluster.
# Extra arguments go to `dotnet test` (e.g. --filter Name~Broadcast).
# The last line is always "tests: N passed, N failed[, N skipped]", read from the TRX files,
# so CI logs end with one greppable verdict even when the build breaks.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
RESULTS=$PWD/.local/test-results

bash infra/postgres.sh start
bash infra/chromium.sh   # the browser tests drive Debian's Chromium
# Tests create their own throwaway databases on this cluster from the base connection string.
export ALERTNET_TEST_PG="${ALERTNET_TEST_PG:-$(bash infra/postgres.sh url)}"

rm -rf "$RESULTS"   # only count this run's results
mkdir -p "$RESULTS"

rc=0
dotnet build AlertNet.sln -c Release || rc=$?
if (( rc == 0 )); then
  # One TRX file per test project (a fixed LogFileName would let the last project overwrite the others).
  dotnet test AlertNet.sln -c Release --no-build \
    --logger "trx;LogFilePrefix=results" --results-directory "$RESULTS" \
    --logger "console;verbosity=normal" "$@" || rc=$?
fi

# Sum the <Counters .../> attributes of every TRX file (one per project). Skipped tests show up
# as total - executed: the TRX logger leaves notExecuted at 0 for xunit skips.
read -r passed failed skipped < <(
  find "$RESULTS" -name '*.trx' -exec grep -ho '<Counters [^>]*>' {} + 2>/dev/null |
    awk '{ for (i = 2; i <= NF; i++) { split($i, kv, "="); gsub(/[^0-9]/, "", kv[2]); n[kv[1]] += kv[2] } }
         END { print n["passed"] + 0, n["failed"] + 0, n["total"] - n["executed"] }')

# Name the failed tests (CI logs keep only the tail, so the verdict must say which).
find "$RESULTS" -name '*.trx' -exec grep -ho 'testName="[^"]*"[^>]*outcome="Failed"' {} + 2>/dev/null |
  sed -E 's/testName="([^"]*)".*/FAILED: \1/' || true
summary="tests: $passed passed, $failed failed"
(( skipped == 0 )) || summary+=", $skipped skipped"
echo "$summary"
(( rc == 0 && passed + failed > 0 && failed == 0 ))
