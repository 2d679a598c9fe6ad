#!/usr/bin/env bash
# Browser tests for CI: makes sure a Chromium is there (Debian's package; playwright-core
# drives the system browser, so `npx playwright install` is never needed), then runs them.
# E2E_JSON, when set, is where Vitest writes its JSON report for .ci/summary.mjs.
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ -z "${CHROMIUM_PATH:-}" && ! -x /usr/bin/chromium ]]; then
  echo "e2e: /usr/bin/chromium is missing; installing Debian's chromium package" >&2
  if [[ "$(id -u)" -eq 0 ]]; then SUDO=(); else SUDO=(sudo); fi
  export DEBIAN_FRONTEND=noninteractive
  "${SUDO[@]}" apt-get update -qq
  # Recommends bring the fonts the screenshots are rendered with.
  "${SUDO[@]}" apt-get install -y -qq chromium
fi

if [[ -n "${E2E_JSON:-}" ]]; then
  npm run test:e2e -- --reporter=default --reporter=json --outputFile="$E2E_JSON"
else
  npm run test:e2e
fi
