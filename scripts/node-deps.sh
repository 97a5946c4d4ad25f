#!/usr/bin/env bash
# Install the npm packages the Node-based checks use (the Teams manifest schema and the Adaptive
# Cards parser) from package-lock.json; a no-op when nothing changed since the last install.
# Without Node.js or npm it says the checks will be skipped and exits 0, except under CI=true.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  if [ "${CI:-}" = "true" ]; then
    echo "CI needs Node.js and npm for the Teams manifest and Adaptive Card checks." >&2
    exit 1
  fi
  echo "Node.js/npm not found: the Teams manifest and Adaptive Card checks will be skipped (install Node.js 18 or newer to run them)." >&2
  exit 0
fi

stamp="node_modules/.wellbeing-stamp"
want="$(node -e 'const c = require("crypto"), fs = require("fs");
  const h = c.createHash("sha256");
  for (const f of ["package.json", "package-lock.json"]) h.update(fs.readFileSync(f));
  process.stdout.write(h.digest("hex"));')"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "Installing the npm packages for the manifest and card checks…" >&2
  npm ci --no-audit --no-fund --loglevel=error >&2
  echo "$want" > "$stamp"
fi
