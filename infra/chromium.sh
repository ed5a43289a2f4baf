#!/usr/bin/env bash
# Debian's Chromium for the browser tests (tests/AlertNet.BrowserTests). Playwright drives it through
# ExecutablePath: no browser is ever downloaded. Installs the package with apt when /usr/bin/chromium is missing.
set -euo pipefail
[[ -x /usr/bin/chromium ]] && exit 0
echo "chromium missing; installing Debian's chromium package..."
SUDO=(); [[ $EUID -eq 0 ]] || SUDO=(sudo)
"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q
"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium
[[ -x /usr/bin/chromium ]] || { echo "chromium.sh: /usr/bin/chromium still missing" >&2; exit 1; }
