#!/usr/bin/env bash
# Quick start 1: run AlertNet locally in drill mode against the private PostgreSQL cluster.
# Extra arguments are passed to the app. Preset environment variables win over the defaults.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash infra/postgres.sh start
export ConnectionStrings__AlertNet="${ConnectionStrings__AlertNet:-$(bash infra/postgres.sh url)}"
# Drill on purpose: without credentials and without this, AlertNet refuses to start (outside Development).
export AlertNet__Mode="${AlertNet__Mode:-drill}"
# A local rehearsal signs in with passwords only (Web__RequireTwoFactor=true to rehearse two-step sign-in too).
export Web__RequireTwoFactor="${Web__RequireTwoFactor:-false}"
export AlertNet__PublicBaseUrl="${AlertNet__PublicBaseUrl:-http://127.0.0.1:5080}"

echo "AlertNet drill mode on http://127.0.0.1:5080 — see README 'Try it'"
exec dotnet run --project src/AlertNet -c Release --no-launch-profile -- --urls http://127.0.0.1:5080 "$@"
