#!/usr/bin/env bash
# Create .venv and install the project into it; a no-op when nothing changed since the last run.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

pick_python() {
  for candidate in "${PYTHON:-}" python3.13 python3.12 python3.11 python3; do
    [ -n "$candidate" ] || continue
    if command -v "$candidate" >/dev/null 2>&1 &&
       "$candidate" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' 2>/dev/null; then
      echo "$candidate"; return 0
    fi
  done
  echo "wellbeing-bot needs Python 3.11 or newer on PATH (or set PYTHON=/path/to/python3.11)." >&2
  return 1
}

if [ ! -x .venv/bin/python ]; then
  py="$(pick_python)"
  echo "Creating .venv with $("$py" --version)…" >&2
  "$py" -m venv .venv
fi

stamp=".venv/.setup-stamp"
want="$(cat pyproject.toml scripts/bootstrap.sh | .venv/bin/python -c 'import hashlib,sys; print(hashlib.sha256(sys.stdin.buffer.read()).hexdigest())')"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "Installing wellbeing-bot and its dependencies into .venv…" >&2
  # pip and setuptools talk a lot (notices about editable installs, not problems): their words
  # go to a log, shown only when the install fails.
  log=".venv/install.log"
  if ! { .venv/bin/python -m pip install --disable-pip-version-check --upgrade pip &&
         .venv/bin/python -m pip install --disable-pip-version-check -e '.[dev]'; } >"$log" 2>&1; then
    tail -n 40 "$log" >&2
    echo "Installing failed; the whole log is in $log." >&2
    exit 1
  fi
  echo "$want" > "$stamp"
fi
