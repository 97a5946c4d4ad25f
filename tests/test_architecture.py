"""The layers of docs/architecture.md, kept by import-linter (contracts in pyproject.toml), and no
project import tucked inside a function where it would hide a cycle."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("bot", "manifest", "scheduler", "dialogs", "signposting", "core")


def test_every_import_contract_is_kept():
    # In a process of its own: import-linter reconfigures logging when it runs.
    command = [str(Path(sys.executable).parent / "lint-imports"), "--no-cache", "--no-logo"]
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Contracts: 2 kept, 0 broken." in result.stdout


def test_no_project_import_inside_a_function():
    offenders = []
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for function in ast.walk(tree):
                if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
                    continue
                for node in ast.walk(function):
                    if isinstance(node, ast.ImportFrom) and node.module:
                        names = [node.module]
                    elif isinstance(node, ast.Import):
                        names = [alias.name for alias in node.names]
                    else:
                        continue
                    offenders += [
                        f"{path.relative_to(ROOT)}:{node.lineno} imports {name}"
                        for name in names
                        if name.split(".")[0] in PACKAGES
                    ]
    assert not offenders, "import at the top of the module instead:\n" + "\n".join(offenders)
