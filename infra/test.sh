#!/usr/bin/env bash
# Quick start 2: build and run the whole test suite against the private PostgreSQL cluster.
# Extra arguments go to `dotnet test` over the solution (e.g. --filter Name~Broadcast); without them the suite
# runs as three test processes side by side (see below).
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
if (( rc == 0 && $# > 0 )); then
  # With arguments (a filter, say): one run over the solution, its output as it comes.
  dotnet test AlertNet.sln -c Release --no-build \
    --logger "trx;LogFilePrefix=results" --results-directory "$RESULTS" \
    --logger "console;verbosity=normal" "$@" || rc=$?
elif (( rc == 0 )); then
  # The whole suite: three test processes at once, about equal in length. Each waits on PostgreSQL, HTTP and
  # the browser much of the time, so together they keep both cores busy where one alone left them half idle.
  # Each writes its own TRX (prefix) and log; the logs are printed when all are done, a run after the other.
  engine="Delivery Privacy Hotline Security"
  include=$(printf 'FullyQualifiedName~AlertNet.Tests.%s.|' $engine); include=${include%|}
  exclude=$(printf 'FullyQualifiedName!~AlertNet.Tests.%s.&' $engine); exclude=${exclude%&}
  run_part() {  # name, project, filter
    dotnet test "$2" -c Release --no-build ${3:+--filter "$3"} \
      --logger "trx;LogFilePrefix=$1" --results-directory "$RESULTS" \
      --logger "console;verbosity=normal" >"$RESULTS/$1.log" 2>&1
  }
  run_part engine tests/AlertNet.Tests/AlertNet.Tests.csproj "$include" & engine_pid=$!
  run_part rest tests/AlertNet.Tests/AlertNet.Tests.csproj "$exclude" & rest_pid=$!
  run_part browser tests/AlertNet.BrowserTests/AlertNet.BrowserTests.csproj "" & browser_pid=$!
  for part in engine rest browser; do
    pid_var=${part}_pid
    wait "${!pid_var}" || rc=$?
    echo "=== $part tests ==="
    cat "$RESULTS/$part.log"
  done
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
