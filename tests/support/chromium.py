"""Render an HTML file in headless Chromium (tests/node/render_report.js, with playwright-core
driving Debian's chromium): skipped with a reason when Chromium, Node.js or the npm package is
missing, but a failure under CI=true, where nothing may be skipped."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.support import node

ROOT = node.ROOT
RENDER = ROOT / "tests" / "node" / "render_report.js"
ARTIFACTS = ROOT / "test-artifacts"
"""Screenshots are kept here (gitignored) so a person can look at them after a run."""


def chromium_binary() -> str:
    found = os.environ.get("CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(found).exists():
        node._unavailable(
            "chromium not found: install it (Debian: apt-get install chromium), or set CHROMIUM"
        )
    return found


def render(html: Path, screenshot: Path) -> dict[str, Any]:
    """Open `html`, save a full-page screenshot, and return what the page reported."""
    binary = chromium_binary()
    runner = node.node_binary()
    if not (ROOT / "node_modules" / "playwright-core").is_dir():
        node._unavailable("npm package playwright-core missing: run `npm ci` in the repo root")
    screenshot.parent.mkdir(parents=True, exist_ok=True)
    result = subprocess.run(
        [runner, str(RENDER), str(html), str(screenshot)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=180,
        check=False,
        env={**os.environ, "CHROMIUM": binary},
    )
    if result.returncode != 0:
        pytest.fail(f"render_report.js could not run:\n{result.stderr}")
    return json.loads(result.stdout)
