"""Run the Node-based validators (tests/node/validate.js): skipped with a reason when Node.js or
the npm packages are missing, but a failure under CI=true, where nothing may be skipped."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent.parent
VALIDATE = ROOT / "tests" / "node" / "validate.js"
PACKAGES = ("@microsoft/app-manifest", "adaptivecards", "fs-extra")


def _unavailable(reason: str) -> None:
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{reason} (CI=true, so the Node checks must run)")
    pytest.skip(reason)


def node_binary() -> str:
    """The node executable, or skip (fail in CI) saying how to get it."""
    node = shutil.which("node")
    if node is None:
        _unavailable(
            "node not found: install Node.js 18 or newer and run `npm ci` in the repo root"
        )
    missing = [name for name in PACKAGES if not (ROOT / "node_modules" / name).is_dir()]
    if missing:
        _unavailable(
            f"npm packages missing ({', '.join(missing)}): run `npm ci --no-audit --no-fund` "
            "in the repo root (./run-tests does it when npm is installed)"
        )
    return node


def validate(kind: str, payload: Any) -> Any:
    """Run validate.js on `payload` and return its JSON report."""
    result = subprocess.run(
        [node_binary(), str(VALIDATE), kind],
        input=json.dumps(payload),
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        check=False,
    )
    if result.returncode != 0:
        pytest.fail(f"validate.js {kind} could not run:\n{result.stderr}")
    return json.loads(result.stdout)
